using Conclave.Protocol.Ring.Wire;

namespace Conclave.Protocol.Ring;

// RECOVERY entry (RC1), abandon (RC10) and install (RC7-RC8) (ring-protocol.md §3.4).
public sealed partial class RingMachine
{
    /// <summary>RC1: compute the transitional membership and queue the old-ring messages to re-send.</summary>
    private void EnterRecovery(CommitToken ct)
    {
        OldRingSnapshot old = _oldRing!;
        var trans = new List<uint>();
        _lowRingAru = old.HighSeqReceived;
        _oldStable = 0;
        _highRingDelivered = 0;
        bool anyMissing = false;
        for (int i = 0; i < ct.Members.Length; i++)
        {
            CommitEntry e = ct.Entries[i];
            if (e.OldRingId != old.RingId || !IsMember(ct.Members[i])) continue;
            trans.Add(ct.Members[i]);
            _lowRingAru = Math.Min(_lowRingAru, e.MyAru);
            _oldStable = Math.Max(_oldStable, e.StableSeq);
            _highRingDelivered = Math.Max(_highRingDelivered, e.HighDelivered);
            anyMissing |= !e.ReceivedFlag;
        }
        _transMemb = [.. trans];

        _retransMessages.Clear();
        _recoveryQueue.Clear();
        if (anyMissing)
        {
            for (ulong s = _lowRingAru + 1; s <= old.HighSeqReceived; s++)
            {
                if (_regularQueue.TryGetValue(s, out McastMessage? m)) _retransMessages.Enqueue(m);
            }
        }

        // New-ring counters only; my_high_delivered stays the old-ring delivery pointer.
        _myAru = 0;
        _myHighSeqReceived = 0;
        _lastReleased = 0;
        _myTokenSeq = -1;
        _retransFlagCount = 0;
        _rotationCounter = 0;
        _installSeq = 0;
        _mySetRetransFlag = false;
        _aruCount = 0;
        _ftrLastAru = 0;
        _stable = 0;
        _myLastAru = 0;
        _originatedOrfToken = false;
        _missCount.Clear();
        _retransmittedSeqs.Clear();
        Transition(RingState.Recovery);
        ArmTimer(RingTimer.TokenLoss, _options.TokenTimeoutUs);
    }

    /// <summary>RC10: forget the failed attempt's new-ring state; keep the snapshot and every old-ring message.</summary>
    internal void AbandonRecovery()
    {
        OldRingSnapshot old = _oldRing!;
        _myAru = old.Aru;
        _myHighSeqReceived = old.HighSeqReceived;
        _stable = old.Stable;
        _lastReleased = 0;
        _recoveryQueue.Clear();
        _retransMessages.Clear();
        _missCount.Clear();
    }

    /// <summary>RC7-RC8: the EVS delivery sequence, then OPERATIONAL on the new ring.</summary>
    private void Install()
    {
        OldRingSnapshot old = _oldRing!;

        // RC7: unwrap recovered messages of my old ring; those of other old rings belong to another Trans.
        for (ulong s = 1; s <= _installSeq; s++)
        {
            if (!_recoveryQueue.TryGetValue(s, out McastMessage? outer) || !outer.Encapsulated) continue;
            if (McastMessage.TryParseBody(outer.Payload, false, out McastMessage? inner) != RingParseError.None)
            {
                Counters.Malformed++;
                continue;
            }
            if (inner!.Ring != old.RingId || inner.Seq <= _myHighDelivered) continue;
            if (_regularQueue.TryAdd(inner.Seq, inner) && inner.Seq > old.HighSeqReceived) old.HighSeqReceived = inner.Seq;
        }

        // RC8.1: the rest of the old regular configuration, up to the first hole or unstable safe message.
        ConfId regOld = ConfId.Reg(old.RingId);
        ulong s1 = _myHighDelivered + 1;
        while (_regularQueue.TryGetValue(s1, out McastMessage? m) && !(m.Service == RingService.Safe && s1 > _oldStable))
        {
            DeliverMessage(m, regOld);
            s1++;
        }
        if (_highRingDelivered >= s1) Counters.RecoveryCrossCheckFailures++;

        // RC8.2
        ConfId trans = ConfId.Trans(MyRingId, old.RingId);
        DeliverConfiguration(trans, _transMemb, Except(MyMemb, _transMemb), []);

        // RC8.3: after the first hole, only messages whose originator moves with me.
        bool hole = false;
        for (ulong s = s1; s <= old.HighSeqReceived; s++)
        {
            if (!_regularQueue.TryGetValue(s, out McastMessage? m))
            {
                hole = true;
                continue;
            }
            if (!hole || Array.BinarySearch(_transMemb, m.Originator) >= 0) DeliverMessage(m, trans);
        }

        // RC8.4
        DeliverConfiguration(ConfId.Reg(MyRingId), _newMemb, [], Except(_newMemb, _transMemb));

        // RC8.5-6: the recovery queue becomes the regular queue; seqs up to install_seq carried only old data.
        (_regularQueue, _recoveryQueue) = (_recoveryQueue, _regularQueue);
        _recoveryQueue.Clear();
        _myHighDelivered = _installSeq;
        MyMemb = _newMemb;
        _lastRegRingId = MyRingId;
        ProcSet.Clear();
        foreach (uint n in _newMemb) ProcSet.Add(n);
        FailSet.Clear();
        _oldRing = null;
        _retransMessages.Clear();
        Transition(RingState.Operational);
        RestartIdleCount();
        Cancel(RingTimer.Merge);
        ArmTimer(RingTimer.Merge, _options.MergeTimeoutUs);
    }
}
