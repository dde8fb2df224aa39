using Conclave.Protocol.Ring.Wire;

namespace Conclave.Protocol.Ring;

// Receiving data and the token: rules R1-R4 and T1-T10 (ring-protocol.md §2.1-§2.3, §2.7, §2.9),
// with the RECOVERY changes RC2-RC6 (§3.4).
public sealed partial class RingMachine
{
    /// <summary>R2-R3 for a message of my ring outside RECOVERY.</summary>
    internal void StoreRegular(McastMessage m) => Store(_regularQueue, m);

    /// <summary>R2-R3 in RECOVERY: every own-ring message goes to the recovery queue.</summary>
    internal void StoreRecovery(McastMessage m) => Store(_recoveryQueue, m);

    private void Store(Dictionary<ulong, McastMessage> queue, McastMessage m)
    {
        if (m.Seq <= _lastReleased || !queue.TryAdd(m.Seq, m)) return;
        _missCount.Remove(m.Seq);
        NoteMessage(m);
        if (m.Seq > _myHighSeqReceived) _myHighSeqReceived = m.Seq;
        UpdateAru(queue);
    }

    private void UpdateAru(Dictionary<ulong, McastMessage> queue)
    {
        while (queue.ContainsKey(_myAru + 1) || _myAru + 1 <= _lastReleased) _myAru++;
    }

    internal void HandleToken(OrfToken t)
    {
        // T1
        if ((long)t.TokenSeq <= _myTokenSeq || IsHeldDuplicate(t))
        {
            Counters.DuplicateTokens++;
            // The predecessor re-sent the token I am holding: my hold timer is late (a starved host), and
            // the others' token-loss timers run on. Let it go now.
            if (_heldToken is not null) ReleaseHeldTokenForGood();
            return;
        }
        if (ShouldHold(t))
        {
            Hold(t);
            return;
        }
        ProcessToken(t);
    }

    /// <summary>
    /// T2-T10 for a token visit that is not held. <paramref name="continuation"/>: a token this member kept after
    /// sending (<see cref="ShouldKeep"/>) goes on with the same visit, which is not a new rotation: the rules that
    /// count rotations (stability, miss counts, fail-to-receive) are not applied again.
    /// </summary>
    private void ProcessToken(OrfToken t, bool continuation = false)
    {
        bool recovery = State == RingState.Recovery;
        Dictionary<ulong, McastMessage> queue = recovery ? _recoveryQueue : _regularQueue;
        ulong aruOnArrival = t.Aru;
        bool lastMessageMine = LastMessageIsMine(t.Seq);

        // T2: stability point from two consecutive visits (D2). Stability only grows.
        Cancel(RingTimer.TokenLoss);
        if (!continuation)
        {
            ulong stable = Math.Min(t.Aru, _myLastAru);
            if (stable > _stable) _stable = stable;
            _myLastAru = t.Aru;
        }

        // T3 / F1-F2
        int backlogNow = recovery ? _retransMessages.Count : NewBacklog;
        int allowed = Math.Min(_options.MaxMessages, _options.WindowSize - (int)Math.Min(t.Fcc, int.MaxValue));
        long shareBase = (long)t.Backlog + backlogNow - _myPbl;
        if (shareBase > 0)
        {
            long share = _options.WindowSize * (long)backlogNow / shareBase;
            if (share > 0 && share < allowed) allowed = (int)share;
        }
        if (!continuation) Flow.OnToken(t.Fcc, allowed);

        // T4: retransmissions first. A request I served on an earlier visit that is back on the token
        // means my copies are not reaching the requester (a one-way path, e.g. while a flapped link's
        // neighbour entry is re-resolved), so I serve it again and leave it for the next holder too;
        // otherwise the requester's successor alone would serve it, and fail-to-receive would cut
        // the requester off although the others can reach it.
        int sent = 0;
        for (int i = 0; i < t.Rtr.Count;)
        {
            RtrEntry e = t.Rtr[i];
            if (e.Ring != MyRingId)
            {
                t.Rtr.RemoveAt(i);
                continue;
            }
            if (sent < _options.MaxMessages && queue.TryGetValue(e.Seq, out McastMessage? held))
            {
                Multicast(RingPacket.Format(MyId, held));
                Counters.Retransmitted++;
                sent++;
                if (_retransmittedSeqs.Add(e.Seq))
                {
                    t.Rtr.RemoveAt(i);
                    continue;
                }

                Counters.RetransmitsPassedOn++;
            }
            i++;
        }
        allowed -= sent;

        // F4: never run further ahead of the freed prefix than the queue can hold. Only in OPERATIONAL:
        // nothing is freed during RECOVERY, whose volume is bounded by the old ring's backlog.
        if (!recovery)
        {
            long room = (long)_lastReleased + _options.QueueCapacity - _options.WindowSize - (long)t.Seq;
            if (room < allowed) allowed = (int)Math.Max(0, room);
        }

        // T5: new messages (client ones in OPERATIONAL, old-ring ones in RECOVERY).
        ulong seqOnArrival = t.Seq;
        while (allowed > 0)
        {
            McastMessage m;
            if (recovery)
            {
                if (!_retransMessages.TryDequeue(out McastMessage? old)) break;
                m = new McastMessage(MyRingId, t.Seq + 1, MyId, Incarnation, 0, RingService.Agreed, old.FormatBody(), encapsulated: true);
            }
            else
            {
                if (!_newMessages.TryDequeue(out PendingSend p) && !TryTakeFromSource(out p)) break;
                m = new McastMessage(MyRingId, t.Seq + 1, MyId, p.Id.Incarnation, p.Id.Counter, p.Service, p.Payload, encapsulated: false);
            }
            t.Seq++;
            queue[m.Seq] = m;
            NoteMessage(m);
            _myHighSeqReceived = t.Seq;
            Multicast(RingPacket.Format(MyId, m));
            sent++;
            allowed--;
        }
        UpdateAru(queue);
        // My own sends make the ring busy too: the others' idle counts restart when they see them, so mine
        // must restart now, or the representative would hold right after its own message while the members
        // answering it, counting from zero, send no TokenHoldCancel.
        if (t.Seq != seqOnArrival) _seqUnchanged = 0;
        _seqAtLastVisit = t.Seq;
        if (!continuation) _sentAtLastVisit = t.Seq != seqOnArrival;

        // T6: my own retransmission requests, after a seq has been missing for a few visits.
        if (!continuation && t.Seq > _myAru)
        {
            int scanned = 0;
            for (ulong s = _myAru + 1; s <= t.Seq && t.Rtr.Count < _options.RtrMax && scanned < _options.RtrMax * 4; s++, scanned++)
            {
                if (queue.ContainsKey(s)) continue;
                _missCount.TryGetValue(s, out int c);
                _missCount[s] = ++c;
                if (c >= _options.MissCountConst && !t.Rtr.Contains(new RtrEntry(MyRingId, s))) t.Rtr.Add(new RtrEntry(MyRingId, s));
            }
        }

        // T7: aru rules A1-A2, then fail-to-receive (FR1).
        if (_myAru < t.Aru || t.AruId == MyId || t.AruId == 0)
        {
            t.Aru = _myAru;
            t.AruId = t.Aru == t.Seq ? 0 : MyId;
        }
        if (!continuation)
        {
            if (t.AruId != 0 && t.Aru == _ftrLastAru && t.Aru < t.Seq) _aruCount++;
            else _aruCount = 0;
            _ftrLastAru = t.Aru;
        }
        if (_aruCount > _options.FailToReceiveConst && t.AruId != MyId && RingMembers.Contains(t.AruId))
        {
            Counters.FailToReceive++;
            FailSet.Add(t.AruId);
            if (recovery) AbandonRecovery();
            EnterGather();
            return;
        }

        // T8 / F5
        int backlogAfter = recovery ? _retransMessages.Count : NewBacklog;
        // A continuation adds to what this visit already sent: the window counts a rotation's messages.
        t.Fcc = (uint)Math.Max(0, (long)t.Fcc + sent - (continuation ? 0 : _myTrc));
        t.Backlog = (uint)Math.Max(0, (long)t.Backlog + backlogAfter - _myPbl);
        _myTrc = continuation ? _myTrc + sent : sent;
        _myPbl = backlogAfter;

        bool install = recovery && RecoveryTokenRules(t);
        if (!recovery && ShouldKeep(t, continuation, t.Seq != seqOnArrival, aruOnArrival == seqOnArrival && lastMessageMine))
        {
            Keep(t, continuation);
            return;
        }

        // T9
        uint[] ring = RingMembers;
        _myTokenSeq = (long)t.TokenSeq;
        t.TokenSeq++;
        if (install) Install();
        uint next = Successor(ring);
        _lastTokenPacket = RingPacket.Format(MyId, t);
        _lastTokenDestination = next;
        Unicast(next, _lastTokenPacket);

        // T10
        ArmTimer(RingTimer.TokenLoss, _options.TokenTimeoutUs);
        ArmTimer(RingTimer.TokenRetransmit, _options.TokenRetransmitTimeoutUs);
        if (State == RingState.Operational)
        {
            DeliverRegular();
            CollectGarbage();
        }
    }

    /// <summary>RC3-RC6; returns true when this visit completes recovery.</summary>
    private bool RecoveryTokenRules(OrfToken t)
    {
        if (_retransMessages.Count > 0 && !t.RetransFlag)
        {
            t.RetransFlag = true;
            _mySetRetransFlag = true;
        }
        else if (_retransMessages.Count == 0 && t.RetransFlag && _mySetRetransFlag)
        {
            t.RetransFlag = false;
            _mySetRetransFlag = false;
        }
        _retransFlagCount = t.RetransFlag ? 0 : _retransFlagCount + 1;
        if (_retransFlagCount == 2) _installSeq = t.Seq;
        if (_retransFlagCount >= 3 && t.Aru >= _installSeq) _rotationCounter++;
        else _rotationCounter = 0;
        return _rotationCounter == 2;
    }

    internal void RetransmitLastToken()
    {
        if (_lastTokenPacket is null) return;
        Counters.TokenRetransmits++;
        Unicast(_lastTokenDestination, _lastTokenPacket);
        ArmTimer(RingTimer.TokenRetransmit, _options.TokenRetransmitTimeoutUs);
    }

    private void CollectGarbage()
    {
        ulong upTo = Math.Min(_stable, _myHighDelivered);
        while (_lastReleased < upTo)
        {
            _lastReleased++;
            _regularQueue.Remove(_lastReleased);
            _retransmittedSeqs.Remove(_lastReleased);
        }
    }
}
