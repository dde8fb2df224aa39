using Conclave.Protocol.Ring.Wire;

namespace Conclave.Protocol.Ring.States;

/// <summary>RECOVERY: exchange old-ring messages on the new ring, then install (§3.4).</summary>
internal sealed class RecoveryState(RingMachine m) : IRingState
{
    public RingState Kind => RingState.Recovery;

    public void OnToken(OrfToken token)
    {
        if (token.Ring == m.MyRingId) m.HandleToken(token);
    }

    public void OnMcast(McastMessage message, uint sender)
    {
        if (message.Ring == m.MyRingId) m.StoreRecovery(message);
    }

    public void OnJoin(JoinMessage join)
    {
        // RC11.
        if (!m.InNewMemb(join.Sender) || join.RingSeq < m.MyRingId.Seq) return;
        m.AbandonRecovery();
        m.GatherWithJoin(join);
    }

    public void OnCommitToken(CommitToken token) => m.CommitTokenInRecovery(token);

    public void OnMergeDetect(MergeDetectMessage detect)
    {
    }

    public void OnTimer(RingTimer timer)
    {
        switch (timer)
        {
            case RingTimer.TokenLoss:
                m.AbandonRecovery(); // RC10
                m.EnterGather();
                break;
            case RingTimer.TokenRetransmit:
                m.RetransmitLastToken();
                break;
        }
    }
}
