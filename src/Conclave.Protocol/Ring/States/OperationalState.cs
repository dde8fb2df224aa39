using Conclave.Protocol.Ring.Wire;

namespace Conclave.Protocol.Ring.States;

/// <summary>OPERATIONAL: order and deliver on the installed ring (§2, §3.5 first row, §3.6).</summary>
internal sealed class OperationalState(RingMachine m) : IRingState
{
    public RingState Kind => RingState.Operational;

    public void OnToken(OrfToken token)
    {
        if (token.Ring == m.MyRingId) m.HandleToken(token);
    }

    public void OnMcast(McastMessage message, uint sender)
    {
        if (message.Ring == m.MyRingId)
        {
            m.StoreRegular(message);
            m.DeliverRegular();
            return;
        }
        // §3.6: a stale copy from one of my own earlier rings is ignored; anything else means another ring is reachable.
        if (m.IsStaleFromMember(message.Ring, sender)) return;
        m.AddToProcSetAndGather(sender);
    }

    public void OnJoin(JoinMessage join)
    {
        // [CS] ignore_join_under_operational(): drop Joins that exclude me or that are stale from a member.
        if (Array.IndexOf(join.FailSet, m.MyId) >= 0) return;
        if (m.IsMember(join.Sender) && join.RingSeq < m.MyRingId.Seq) return;
        m.GatherWithJoin(join);
    }

    public void OnCommitToken(CommitToken token)
    {
    }

    public void OnMergeDetect(MergeDetectMessage detect)
    {
        if (detect.Ring == m.MyRingId || m.IsStaleFromMember(detect.Ring, detect.Sender)) return;
        m.AddToProcSetAndGather(detect.Sender);
    }

    public void OnTimer(RingTimer timer)
    {
        switch (timer)
        {
            case RingTimer.TokenLoss:
                m.EnterGather();
                break;
            case RingTimer.TokenRetransmit:
                m.RetransmitLastToken();
                break;
            case RingTimer.Merge:
                m.SendMergeDetect();
                break;
        }
    }
}
