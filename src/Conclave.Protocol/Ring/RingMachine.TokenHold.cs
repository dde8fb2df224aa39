using Conclave.Protocol.Ring.Wire;

namespace Conclave.Protocol.Ring;

// Token hold (ring-protocol.md §1.8, §2.8 token_hold_timeout, seqno_unchanged_const): an idle ring
// would otherwise pass the token as fast as the network allows and keep a core busy doing nothing.
// Once the token has come round SeqUnchangedConst times without a new message, the representative
// keeps it for up to the hold period. Work to do releases it at once: a submission at the
// representative, or a TokenHoldCancel from a member that has something to send.
public sealed partial class RingMachine
{
    private OrfToken? _heldToken;
    private ulong _seqAtLastVisit;
    private int _seqUnchanged;
    private bool _holdCancelSent;
    private bool _releaseBeforeOutputs;
    private bool _holdVetoed;

    /// <summary>True while the representative is holding an idle token.</summary>
    public bool HoldingToken => _heldToken is not null;

    /// <summary>Counts an idle visit; true if the token should be held rather than processed now.</summary>
    private bool ShouldHold(OrfToken t)
    {
        if (t.Seq == _seqAtLastVisit) _seqUnchanged++;
        else _seqUnchanged = 0;
        _holdCancelSent = false;
        // A cancel can overtake the token on its way to me: the member that sent it will not send
        // another before its next visit, so the next visit must not be held.
        bool vetoed = _holdVetoed;
        _holdVetoed = false;
        return !vetoed && _options.EffectiveTokenHoldUs > 0
            && State == RingState.Operational
            && MyMemb.Length > 0 && MyMemb[0] == MyId
            && _seqUnchanged >= _options.SeqUnchangedConst
            && NewBacklog == 0
            && t.Rtr.Count == 0
            && t.Aru == t.Seq
            && t.Backlog == 0;
    }

    /// <summary>
    /// A new ring starts busy: messages queued while it formed sent no TokenHoldCancel (they go at their
    /// sender's first visit), so no member may count idle visits carried over from its old ring.
    /// </summary>
    private void RestartIdleCount() => _seqUnchanged = 0;

    /// <summary>A token visit arriving while one is held is the predecessor's retransmission.</summary>
    private bool IsHeldDuplicate(OrfToken t) => _heldToken is not null && t.TokenSeq <= _heldToken.TokenSeq;

    private void Hold(OrfToken t)
    {
        // Received tokens are parsed into one scratch object: the held one must not be overwritten by the next.
        if (ReferenceEquals(t, _tokenScratch)) _tokenScratch = new OrfToken();
        _heldToken = t;
        Counters.TokenHolds++;
        ArmTimer(RingTimer.TokenHold, _options.EffectiveTokenHoldUs);
    }

    /// <summary>Releases the held token if a submission asked for it (called when outputs are taken).</summary>
    private void ReleaseIfSubmitted()
    {
        if (!_releaseBeforeOutputs) return;
        _releaseBeforeOutputs = false;
        ReleaseHeldToken();
    }

    /// <summary>Passes a held token on now (its visit is processed as if it had just arrived).</summary>
    internal void ReleaseHeldToken()
    {
        if (_heldToken is not { } t) return;
        _heldToken = null;
        Cancel(RingTimer.TokenHold);
        // The ring may have changed while the token waited: a token of another ring is dropped.
        if (State == RingState.Operational && t.Ring == MyRingId) ProcessToken(t);
    }

    /// <summary>A member has something to send: release the held token, or do not hold the next one.</summary>
    private void OnHoldCancel()
    {
        if (_heldToken is null) _holdVetoed = true;
        else ReleaseHeldToken();
    }

    /// <summary>Something to send: release my held token, or ask the representative to release its own.</summary>
    private void OnLocalSubmit()
    {
        if (_heldToken is not null)
        {
            // Not now: the caller may be submitting a batch, which should leave on this visit.
            _releaseBeforeOutputs = true;
            return;
        }
        if (State != RingState.Operational || _holdCancelSent || MyMemb.Length < 2 || MyMemb[0] == MyId) return;
        // The representative holds only after SeqUnchangedConst idle visits; mine lag its count by at most one
        // (two, for margin: a cancel too many costs one small packet, one too few up to a hold period).
        if (_options.EffectiveTokenHoldUs == 0 || _seqUnchanged < _options.SeqUnchangedConst - 2) return;
        _holdCancelSent = true;
        Counters.TokenHoldCancels++;
        Unicast(MyMemb[0], RingPacket.Format(new TokenHoldCancelMessage(MyId, MyRingId)));
    }
}
