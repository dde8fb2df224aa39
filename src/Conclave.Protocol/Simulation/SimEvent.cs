using Conclave.Protocol.Ring;

namespace Conclave.Protocol.Simulation;

internal enum SimEventKind : byte
{
    Packet,
    Timer,
    ClientSend,
    Script,
}

/// <summary>
/// One entry of the simulator's event queue, ordered by (time, sequence). Events are pooled by the
/// simulator: one is recycled as soon as it has been dispatched and not queued again.
/// </summary>
internal sealed class SimEvent
{
    public SimEventKind Kind;
    public uint Node;
    public ulong Incarnation;
    public byte[]? Packet;
    public RingTimer Timer;
    public Action? Script;

    public void Clear()
    {
        Packet = null;
        Script = null;
    }
}

/// <summary>
/// The one queued firing of a (node, timer) pair. A re-armed timer does not queue another event
/// unless its new deadline is earlier: the queued one is moved on to the latest deadline when it
/// comes up, keeping the sequence number the re-arming got, so the firing order is exactly that
/// of one event per arming (most armings are superseded before they fire).
/// </summary>
internal sealed class SimTimerSlot
{
    /// <summary>False after a cancel; the queued firing is then dropped.</summary>
    public bool Armed;
    /// <summary>The latest arming's firing time and queue sequence number.</summary>
    public long Due;
    public long DueSeq;
    public ulong Generation;
    /// <summary>The event in the queue for this slot (null if none), and its queue key.</summary>
    public SimEvent? Queued;
    public long QueuedTime;
    public long QueuedSeq;

    public void Reset()
    {
        Armed = false;
        Queued = null;
    }
}
