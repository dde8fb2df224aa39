using Conclave.Protocol.Ring;

namespace Conclave.Protocol.Simulation;

internal enum SimEventKind : byte
{
    Packet,
    Timer,
    ClientSend,
    Script,
}

/// <summary>One entry of the simulator's event queue, ordered by (time, sequence).</summary>
internal sealed class SimEvent
{
    public SimEventKind Kind;
    public uint Node;
    public ulong Incarnation;
    public byte[]? Packet;
    public RingTimer Timer;
    public ulong Generation;
    public Action? Script;
}
