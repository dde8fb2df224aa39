using Conclave.Protocol.Ring;

namespace Conclave.Protocol.Simulation;

/// <summary>A simulated daemon: its current core (null while crashed) and its stable storage.</summary>
internal sealed class SimNode(uint id)
{
    public uint Id { get; } = id;
    public RingMachine? Machine { get; set; }
    public bool Up => Machine is not null;
    /// <summary>True incarnation count, kept by the simulator even when storage is wiped.</summary>
    public ulong Incarnation { get; set; }
    public ulong StoredRingSeq { get; set; }
    public ulong StoredIncarnation { get; set; }
    public long PausedUntil { get; set; }
    public double TimerRate { get; set; } = 1.0;
    public long Delivered { get; set; }
    public long Configurations { get; set; }

    /// <summary>Per <see cref="RingTimer"/>: its queued firing (reset at every boot).</summary>
    public SimTimerSlot[] Timers { get; } = [.. Enum.GetValues<RingTimer>().Select(_ => new SimTimerSlot())];
}
