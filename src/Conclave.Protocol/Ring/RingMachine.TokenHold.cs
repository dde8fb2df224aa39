using Conclave.Protocol.Ring.Wire;

namespace Conclave.Protocol.Ring;

// Token hold (ring-protocol.md §1.8, §2.8 token_hold_timeout, seqno_unchanged_const): an idle ring
// would otherwise pass the token as fast as the network allows and keep a core busy doing nothing.
// Once the token has come round SeqUnchangedConst times without a new message, its keeper holds it
// for up to the hold period. Work to do releases it at once: a submission at the keeper, or a
// TokenHoldCancel from a member that has something to send.
//
// The keeper is the originator of the ring's last message (the representative before the first one),
// so a daemon that sends again finds the token at hand. Every member knows who that is whenever a hold
// is possible (the token's aru equals its seq: everyone has the last message), so each member sends its
// cancel to the same keeper; holding stays one token's local decision, so the ring's rules (token loss,
// retransmission, membership) see nothing but a slower token, as with the representative alone.
public sealed partial class RingMachine
{
    private OrfToken? _heldToken;
    private ulong _seqAtLastVisit;
    private int _seqUnchanged;
    private bool _holdCancelSent;
    private bool _releaseBeforeOutputs;
    private bool _holdVetoed;
    private RingId _lastMessageRing;
    private ulong _lastMessageSeq;
    private uint _lastMessageOriginator;

    /// <summary>True while this member is holding an idle token.</summary>
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
            && MyMemb.Length > 0 && KeeperOf(t.Seq) == MyId
            && _seqUnchanged >= _options.SeqUnchangedConst
            && NewBacklog == 0
            && t.Rtr.Count == 0
            && t.Aru == t.Seq
            && t.Backlog == 0;
    }

    /// <summary>Notes the originator of the highest message of my ring, sent or received (the token's keeper).</summary>
    private void NoteMessage(McastMessage m)
    {
        if (m.Ring != _lastMessageRing || m.Seq > _lastMessageSeq)
        {
            _lastMessageRing = m.Ring;
            _lastMessageSeq = m.Seq;
            _lastMessageOriginator = m.Originator;
        }
    }

    /// <summary>
    /// Who may hold a token whose seq is <paramref name="seq"/> (or, with 0, the member my cancels go to): the
    /// originator of the last message of my ring, or the representative when I know of none.
    /// </summary>
    private uint KeeperOf(ulong seq)
    {
        bool known = _lastMessageRing == MyRingId && _lastMessageSeq > 0 && (seq == 0 || seq == _lastMessageSeq);
        return known && Array.IndexOf(MyMemb, _lastMessageOriginator) >= 0 ? _lastMessageOriginator : MyMemb[0];
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

    /// <summary>A member has something to send: release the held token, or do not hold the next one (the cancel overtook it).</summary>
    private void OnHoldCancel()
    {
        if (_heldToken is null) _holdVetoed = true;
        else ReleaseHeldToken();
    }

    /// <summary>Something to send: release my held token, or ask the keeper to release its own.</summary>
    private void OnLocalSubmit()
    {
        if (_heldToken is not null)
        {
            // Not now: the caller may be submitting a batch, which should leave on this visit.
            _releaseBeforeOutputs = true;
            return;
        }
        if (State != RingState.Operational || _holdCancelSent || MyMemb.Length < 2) return;
        uint keeper = KeeperOf(0);
        if (keeper == MyId) return; // Nobody else holds the token: it is on its way to me.
        // The keeper holds only after SeqUnchangedConst idle visits; mine lag its count by at most one
        // (two, for margin: a cancel too many costs one small packet, one too few up to a hold period).
        if (_options.EffectiveTokenHoldUs == 0 || _seqUnchanged < _options.SeqUnchangedConst - 2) return;
        _holdCancelSent = true;
        Counters.TokenHoldCancels++;
        Unicast(keeper, RingPacket.Format(new TokenHoldCancelMessage(MyId, MyRingId)));
    }
}
