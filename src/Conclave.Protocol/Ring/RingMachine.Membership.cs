using Conclave.Protocol.Ring.Wire;

namespace Conclave.Protocol.Ring;

// Boot, GATHER (G1-G10) and COMMIT (C1-C5) (ring-protocol.md §3.2-§3.3).
public sealed partial class RingMachine
{
    /// <summary>Boot: install Reg({me}) without a Trans, run as a singleton ring and announce myself (§1.2, §3.5).</summary>
    private void BootSingleton()
    {
        MyMemb = [MyId];
        _newMemb = [MyId];
        _lastRegRingId = MyRingId;
        ProcSet.Clear();
        ProcSet.Add(MyId);
        FailSet.Clear();
        DeliverConfiguration(ConfId.Reg(MyRingId), [MyId], [], [MyId]);
        Transition(RingState.Operational);
        var token = new OrfToken { Ring = MyRingId, AruId = MyId };
        HandleToken(token);
        SendMergeDetect();
    }

    internal void SendMergeDetect()
    {
        if (State != RingState.Operational) return;
        if (MyMemb.Length > 0 && MyMemb[0] == MyId) Multicast(RingPacket.Format(new MergeDetectMessage(MyId, MyRingId)));
        ArmTimer(RingTimer.Merge, _options.MergeTimeoutUs);
    }

    internal void AddToProcSetAndGather(uint node)
    {
        ProcSet.Add(node);
        EnterGather();
    }

    /// <summary>G1: (re-)enter GATHER and announce my sets.</summary>
    internal void EnterGather()
    {
        Transition(RingState.Gather);
        ProcSet.Add(MyId);
        FailSet.Remove(MyId);
        Cancel(RingTimer.TokenLoss);
        Cancel(RingTimer.TokenRetransmit);
        Cancel(RingTimer.Merge);
        _consensus.Clear();
        _consensus.Add(MyId);
        SendJoin();
        ArmTimer(RingTimer.Join, _options.JoinTimeoutUs);
        ArmTimer(RingTimer.Consensus, _options.ConsensusTimeoutUs);
        CheckConsensus();
    }

    internal void SendJoin() =>
        Multicast(RingPacket.Format(new JoinMessage(MyId, MyRingId.Seq, false, [.. ProcSet], [.. FailSet])));

    private uint[] Candidate()
    {
        var c = new List<uint>(ProcSet.Count);
        foreach (uint n in ProcSet)
        {
            if (!FailSet.Contains(n)) c.Add(n);
        }
        return [.. c];
    }

    /// <summary>G3-G6, G9 for a Join received in GATHER.</summary>
    internal void ProcessJoinInGather(JoinMessage j)
    {
        if (j.RingSeq > HighestSeenRingSeq) HighestSeenRingSeq = j.RingSeq;
        if (j.Sender == MyId || FailSet.Contains(j.Sender)) return; // G5
        if (SetEquals(ProcSet, j.ProcSet) && SetEquals(FailSet, j.FailSet))
        {
            _consensus.Add(j.Sender); // G3
            CheckConsensus();
            return;
        }
        if (IsSubset(j.ProcSet, ProcSet) && IsSubset(j.FailSet, FailSet)) return; // G4

        // G6: new information. Re-enter GATHER only if my sets changed: a foreign sender's fail set is
        // not adopted, and answering it with an unchanged Join would only start a Join storm.
        bool changed = false;
        foreach (uint n in j.ProcSet) changed |= ProcSet.Add(n);
        if (Array.IndexOf(j.FailSet, MyId) >= 0)
        {
            changed |= FailSet.Add(j.Sender);
        }
        else if (IsMember(j.Sender))
        {
            foreach (uint n in j.FailSet)
            {
                if (n != MyId) changed |= FailSet.Add(n);
            }
        }
        if (changed) EnterGather();
    }

    /// <summary>
    /// A Join that makes me leave OPERATIONAL, COMMIT or RECOVERY: merge its sets first, so the
    /// GATHER I enter already announces them, then count it toward consensus (G3-G6 in one step).
    /// </summary>
    internal void GatherWithJoin(JoinMessage j)
    {
        if (j.RingSeq > HighestSeenRingSeq) HighestSeenRingSeq = j.RingSeq;
        if (!FailSet.Contains(j.Sender))
        {
            foreach (uint n in j.ProcSet) ProcSet.Add(n);
            ProcSet.Add(j.Sender);
            if (Array.IndexOf(j.FailSet, MyId) >= 0) FailSet.Add(j.Sender);
            else if (IsMember(j.Sender)) foreach (uint n in j.FailSet) FailSet.Add(n);
        }
        EnterGather();
        if (State == RingState.Gather && !FailSet.Contains(j.Sender) && SetEquals(ProcSet, j.ProcSet) && SetEquals(FailSet, j.FailSet))
        {
            _consensus.Add(j.Sender);
            CheckConsensus();
        }
    }

    private void CheckConsensus()
    {
        if (State != RingState.Gather) return;
        uint[] candidate = Candidate();
        foreach (uint n in candidate)
        {
            if (!_consensus.Contains(n)) return;
        }
        if (candidate[0] != MyId) return;
        // C1: the representative creates the commit token.
        ulong seq = Math.Max(Math.Max(HighestSeenRingSeq, MyRingId.Seq), PersistedSeq) + 4;
        var ct = new CommitToken(new RingId(MyId, seq), candidate);
        EnterCommit(ct);
    }

    /// <summary>G7.</summary>
    internal void ConsensusTimeout()
    {
        uint[] candidate = Candidate();
        bool complete = true;
        foreach (uint n in candidate)
        {
            if (!_consensus.Contains(n))
            {
                complete = false;
                FailSet.Add(n);
            }
        }
        if (complete)
        {
            _consensus.Clear();
            _consensus.Add(MyId);
            ArmTimer(RingTimer.TokenLoss, _options.TokenTimeoutUs);
            return;
        }
        EnterGather();
    }

    /// <summary>G8.</summary>
    internal void AcceptCommitTokenInGather(CommitToken ct)
    {
        if (ct.NewRingId.Seq <= MyRingId.Seq || ct.MemberIndex >= ct.Members.Length || ct.Members[ct.MemberIndex] != MyId) return;
        if (!ct.Members.AsSpan().SequenceEqual(Candidate())) return;
        EnterCommit(ct);
    }

    /// <summary>C2: enter COMMIT, fill my entry and forward the commit token.</summary>
    private void EnterCommit(CommitToken ct)
    {
        _oldRing ??= new OldRingSnapshot(_lastRegRingId, _myAru, _myHighSeqReceived, _stable);
        int index = ct.MemberIndex;
        ct.Entries[index] = new CommitEntry
        {
            Filled = true,
            OldRingId = _oldRing.RingId,
            MyAru = _oldRing.Aru,
            HighDelivered = _myHighDelivered,
            ReceivedFlag = _oldRing.Aru == _oldRing.HighSeqReceived,
            StableSeq = _oldRing.Stable,
        };
        // 1.7: clear ReceivedFlag (own entry included) on same-old-ring entries below the highest MyAru so far.
        ulong highest = 0;
        for (int i = 0; i <= index; i++)
        {
            if (ct.Entries[i].Filled && ct.Entries[i].OldRingId == _oldRing.RingId && ct.Entries[i].MyAru > highest) highest = ct.Entries[i].MyAru;
        }
        for (int i = 0; i <= index; i++)
        {
            if (ct.Entries[i].Filled && ct.Entries[i].OldRingId == _oldRing.RingId && ct.Entries[i].MyAru < highest) ct.Entries[i].ReceivedFlag = false;
        }
        ct.MemberIndex = index + 1;

        _newMemb = ct.Members;
        MyRingId = ct.NewRingId;
        if (MyRingId.Seq > HighestSeenRingSeq) HighestSeenRingSeq = MyRingId.Seq;
        if (MyRingId.Seq > PersistedSeq)
        {
            PersistedSeq = MyRingId.Seq;
            _outbox.Add(new Persist(PersistedSeq, Incarnation));
        }
        Cancel(RingTimer.Join);
        Cancel(RingTimer.Consensus);
        _myTrc = 0;
        _myPbl = 0;
        Transition(RingState.Commit);
        ForwardCommitToken(ct, ct.Members[ct.MemberIndex % ct.Members.Length]);
        ArmTimer(RingTimer.TokenLoss, _options.TokenTimeoutUs);
    }

    private void ForwardCommitToken(CommitToken ct, uint to)
    {
        ct.TokenSeq++;
        _lastTokenPacket = RingPacket.Format(MyId, ct);
        _lastTokenDestination = to;
        Unicast(to, _lastTokenPacket);
        ArmTimer(RingTimer.TokenRetransmit, _options.TokenRetransmitTimeoutUs);
    }

    /// <summary>C3: the first rotation is complete; enter RECOVERY and start the second rotation.</summary>
    internal void CommitTokenInCommit(CommitToken ct)
    {
        if (ct.NewRingId != MyRingId || ct.MemberIndex != ct.Members.Length) return;
        for (int i = 0; i < ct.Entries.Length; i++)
        {
            if (!ct.Entries[i].Filled) return;
        }
        EnterRecovery(ct);
        ForwardCommitToken(ct, Successor(ct.Members));
    }

    /// <summary>C4: the representative originates the first regular token once.</summary>
    internal void CommitTokenInRecovery(CommitToken ct)
    {
        if (ct.NewRingId != MyRingId || ct.MemberIndex != ct.Members.Length || _newMemb[0] != MyId || _originatedOrfToken) return;
        _originatedOrfToken = true;
        // A4; the flag I raise here is mine to clear (RC3).
        _mySetRetransFlag = _retransMessages.Count > 0;
        var token = new OrfToken { Ring = MyRingId, AruId = MyId, RetransFlag = _mySetRetransFlag };
        HandleToken(token);
    }

    private static bool SetEquals(SortedSet<uint> set, uint[] sorted)
    {
        if (set.Count != sorted.Length) return false;
        int i = 0;
        foreach (uint n in set)
        {
            if (sorted[i++] != n) return false;
        }
        return true;
    }

    private static bool IsSubset(uint[] sorted, SortedSet<uint> set)
    {
        foreach (uint n in sorted)
        {
            if (!set.Contains(n)) return false;
        }
        return true;
    }
}
