namespace Conclave.Protocol.Ring;

/// <summary>
/// Delivery service of a ring message (ring-protocol.md §1.4, §2.5). All services are delivered in
/// the one total order; <see cref="Safe"/> additionally waits until every member holds the message.
/// </summary>
public enum RingService : byte
{
    /// <summary>Reliable (delivered in total order, a permitted strengthening).</summary>
    Reliable = 1,
    /// <summary>Per-sender FIFO (delivered in total order).</summary>
    Fifo = 2,
    /// <summary>Causal (delivered in total order).</summary>
    Causal = 3,
    /// <summary>Agreed: total order.</summary>
    Agreed = 4,
    /// <summary>Safe: total order, delivered once stable at every member (D2).</summary>
    Safe = 5,
}
