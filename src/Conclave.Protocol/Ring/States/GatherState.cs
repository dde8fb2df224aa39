using Conclave.Protocol.Ring.Wire;

namespace Conclave.Protocol.Ring.States;

/// <summary>GATHER: agree on the next membership by exchanging Joins (§3.2).</summary>
internal sealed class GatherState(RingMachine m) : IRingState
{
    public RingState Kind => RingState.Gather;

    public void OnToken(OrfToken token)
    {
        // The regular token is being discarded (G1).
    }

    public void OnMcast(McastMessage message, uint sender)
    {
        if (message.Ring == m.MyRingId)
        {
            // Late old-ring copies still count toward the snapshot taken at COMMIT. After a failed
            // attempt my ring id is the failed ring's, whose messages must not enter the old-ring queue.
            if (!m.HasOldRingSnapshot) m.StoreRegular(message);
            return;
        }
        if (!m.InProcSet(sender) && !m.IsStaleFromMember(message.Ring, sender)) m.AddToProcSetAndGather(sender);
    }

    public void OnJoin(JoinMessage join) => m.ProcessJoinInGather(join);

    public void OnCommitToken(CommitToken token) => m.AcceptCommitTokenInGather(token);

    public void OnMergeDetect(MergeDetectMessage detect)
    {
        if (detect.Ring != m.MyRingId && !m.InProcSet(detect.Sender) && !m.IsStaleFromMember(detect.Ring, detect.Sender))
        {
            m.AddToProcSetAndGather(detect.Sender);
        }
    }

    public void OnTimer(RingTimer timer)
    {
        switch (timer)
        {
            case RingTimer.Join:
                m.SendJoin();
                m.ArmTimer(RingTimer.Join, m.Options.JoinTimeoutUs);
                break;
            case RingTimer.Consensus:
            case RingTimer.TokenLoss:
                m.ConsensusTimeout();
                break;
        }
    }
}
