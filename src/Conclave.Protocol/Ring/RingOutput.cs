using Conclave.Protocol.Tracing;

namespace Conclave.Protocol.Ring;

/// <summary>An effect the sans-IO ring core asks its host to perform.</summary>
public abstract record RingOutput;

/// <summary>Send a packet: to one node, or to every other node when <see cref="To"/> is 0.</summary>
public sealed record SendPacket(uint To, byte[] Packet) : RingOutput
{
    /// <summary>The destination used for multicast.</summary>
    public const uint Multicast = 0;
}

/// <summary>Arm (or re-arm) a timer to fire at an absolute time; the firing must carry <see cref="Generation"/>.</summary>
public sealed record SetTimer(RingTimer Timer, long DeadlineUs, ulong Generation) : RingOutput;

/// <summary>Cancel a timer (a late firing is ignored anyway, by generation).</summary>
public sealed record CancelTimer(RingTimer Timer) : RingOutput;

/// <summary>Hand a delivery to the layer above.</summary>
public sealed record Deliver(RingDelivery Delivery) : RingOutput;

/// <summary>Write the ring sequence and incarnation to stable storage before sending anything else.</summary>
public sealed record Persist(ulong RingSeq, ulong Incarnation) : RingOutput;

/// <summary>A trace event for the checker (docs/trace-format.md).</summary>
public sealed record Trace(TraceEvent Event) : RingOutput;
