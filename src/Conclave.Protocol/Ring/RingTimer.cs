namespace Conclave.Protocol.Ring;

/// <summary>The timers the ring core asks its host to run (ring-protocol.md §2.8).</summary>
public enum RingTimer
{
    /// <summary>No valid token within <c>token_timeout</c>.</summary>
    TokenLoss = 0,
    /// <summary>Re-send the last token or commit token.</summary>
    TokenRetransmit = 1,
    /// <summary>Re-multicast the Join in GATHER.</summary>
    Join = 2,
    /// <summary>Consensus deadline in GATHER.</summary>
    Consensus = 3,
    /// <summary>Representative's MergeDetect period.</summary>
    Merge = 4,
    /// <summary>The representative releases an idle token it is holding.</summary>
    TokenHold = 5,
}
