namespace Conclave.Protocol.Ring;

/// <summary>
/// What the token showed on its visits to this processor: how many rotations it made and the flow
/// control it carried (ring-protocol.md §2.7, F1-F4). Read by the daemon's metrics.
/// </summary>
public sealed class RingFlowCounters
{
    /// <summary>Gets the number of tokens accepted here: one per rotation of the ring.</summary>
    public long Tokens { get; private set; }

    /// <summary>Gets the last token's flow-control count: messages multicast during its previous rotation.</summary>
    public long LastFlowControlCount { get; private set; }

    /// <summary>Gets how many messages this processor was allowed to send on the last token (window, share and retransmissions).</summary>
    public int LastAllowed { get; private set; }

    internal void OnToken(uint flowControlCount, int allowed)
    {
        Tokens++;
        LastFlowControlCount = flowControlCount;
        LastAllowed = Math.Max(0, allowed);
    }
}
