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
//
// Keeping after sending: a member that alone is sending (the last message before its visit was its own and
// everyone had it) keeps the token right after its visit, when its sends leave nothing behind and need no
// rotation (no safe message waiting to become stable). Its next submission then goes out at once, as a
// continuation of the same visit, instead of waiting one rotation. Only while the visit has sent few messages
// (TokenKeepMaxMessages): a sender with a stream of submissions would otherwise send one packet per submission. The hold timer, armed at the first keep
// and not re-armed, bounds how long the others go without the token; a TokenHoldCancel releases it.
public sealed partial class RingMachine
{
    private OrfToken? _heldToken;
    private ulong _seqAtLastVisit;
    private int _seqUnchanged;
    private bool _holdCancelSent;
    private bool _releaseBeforeOutputs;
    private bool _holdVetoed;
    private bool _visitVetoed;
    private bool _heldTokenKept;
    private bool _sentAtLastVisit;
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
        _visitVetoed = vetoed;
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

    /// <summary>True when the highest message of my ring, <paramref name="seq"/>, is mine.</summary>
    private bool LastMessageIsMine(ulong seq) =>
        _lastMessageRing == MyRingId && _lastMessageSeq == seq && seq > 0 && _lastMessageOriginator == MyId;

    /// <summary>
    /// After a visit that sent: true if this member may keep the token rather than pass it. <paramref name="othersUpToDate"/>:
    /// the token arrived with every member holding every message, the last of them mine (so the others know me as the keeper).
    /// </summary>
    private bool ShouldKeep(OrfToken t, bool continuation, bool sentNew, bool othersUpToDate)
    {
        if (!sentNew || !othersUpToDate || _visitVetoed || _options.EffectiveTokenHoldUs == 0
            || State != RingState.Operational || MyMemb.Length < 2 || NewBacklog > 0 || t.Rtr.Count > 0
            || t.Backlog > 0 // another member has messages waiting (e.g. held back by the window): it needs the token
            || _myTrc > _options.TokenKeepMaxMessages) // a stream of submissions travels bundled, not one packet each
        {
            return false;
        }
        // The hold timer armed at the first keep bounds the whole visit: once it has fired, the token goes on.
        if (continuation && !_timerArmed[(int)RingTimer.TokenHold]) return false;
        // A safe message becomes deliverable only as the token goes round: keeping it would delay the delivery.
        DeliverRegular();
        return _myHighDelivered == t.Seq;
    }

    /// <summary>Keeps a token whose visit has been processed (its sends are out, its deliveries made).</summary>
    private void Keep(OrfToken t, bool continuation)
    {
        if (ReferenceEquals(t, _tokenScratch)) _tokenScratch = new OrfToken();
        _myTokenSeq = (long)t.TokenSeq;
        _heldToken = t;
        _heldTokenKept = true;
        Counters.TokenKeeps++;
        if (!continuation) ArmTimer(RingTimer.TokenHold, _options.EffectiveTokenHoldUs);
        ArmTimer(RingTimer.TokenLoss, _options.TokenTimeoutUs);
        CollectGarbage();
    }

    /// <summary>
    /// A new ring starts busy: messages queued while it formed sent no TokenHoldCancel (they go at their
    /// sender's first visit), so no member may count idle visits carried over from its old ring.
    /// </summary>
    private void RestartIdleCount()
    {
        _seqUnchanged = 0;
        // Whether I sent at my last visit of the old ring says nothing about the new one: until my first visit,
        // assume the keeper may keep the token, and send my cancel.
        _sentAtLastVisit = false;
    }

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
        bool kept = _heldTokenKept;
        _heldTokenKept = false;
        // A kept token's hold timer still bounds the visit it continues: it is cancelled once the token goes on.
        if (!kept) Cancel(RingTimer.TokenHold);
        // The ring may have changed while the token waited: a token of another ring is dropped.
        if (State == RingState.Operational && t.Ring == MyRingId) ProcessToken(t, continuation: kept);
        if (_heldToken is null) Cancel(RingTimer.TokenHold);
    }

    /// <summary>Passes a held or kept token on now, without keeping it again on this visit.</summary>
    private void ReleaseHeldTokenForGood()
    {
        _visitVetoed = true;
        ReleaseHeldToken();
    }

    /// <summary>A member has something to send: release the held token, or do not hold the next one (the cancel overtook it).</summary>
    private void OnHoldCancel()
    {
        if (_heldToken is null) _holdVetoed = true;
        else ReleaseHeldTokenForGood();
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
        if (_options.EffectiveTokenHoldUs == 0) return;
        // The keeper holds an idle token only after SeqUnchangedConst idle visits; mine lag its count by at most one
        // (two, for margin: a cancel too many costs one small packet, one too few up to a hold period).
        bool idleHoldPossible = _seqUnchanged >= _options.SeqUnchangedConst - 2;
        // It keeps the token after sending only if nobody else sent since its last visit: not before my next
        // visit if I sent at my last one.
        bool keepPossible = !_sentAtLastVisit && _lastMessageRing == MyRingId && _lastMessageSeq > 0;
        if (!idleHoldPossible && !keepPossible) return;
        _holdCancelSent = true;
        Counters.TokenHoldCancels++;
        Unicast(keeper, RingPacket.Format(new TokenHoldCancelMessage(MyId, MyRingId)));
    }
}
