using Conclave.Protocol.Ring.Wire;

namespace Conclave.Protocol.Ring.States;

/// <summary>COMMIT: the commit token makes its first rotation (§3.3).</summary>
internal sealed class CommitState(RingMachine m) : IRingState
{
    public RingState Kind => RingState.Commit;

    public void OnToken(OrfToken token)
    {
    }

    public void OnMcast(McastMessage message, uint sender)
    {
        // No new-ring message exists before RECOVERY; old-ring copies are re-sent by RECOVERY (C7).
    }

    public void OnJoin(JoinMessage join)
    {
        // C5: only a Join from a member of the ring being formed, at least as recent, aborts the attempt.
        if (!m.InNewMemb(join.Sender) || join.RingSeq < m.MyRingId.Seq) return;
        m.GatherWithJoin(join);
    }

    public void OnCommitToken(CommitToken token) => m.CommitTokenInCommit(token);

    public void OnMergeDetect(MergeDetectMessage detect)
    {
    }

    public void OnTimer(RingTimer timer)
    {
        switch (timer)
        {
            case RingTimer.TokenLoss:
                m.EnterGather(); // C6: the sets are kept, so the silent member fails at the consensus timeout.
                break;
            case RingTimer.TokenRetransmit:
                m.RetransmitLastToken();
                break;
        }
    }
}
