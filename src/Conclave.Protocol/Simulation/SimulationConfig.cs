using Conclave.Protocol.Ring;

namespace Conclave.Protocol.Simulation;

/// <summary>Fault classes a random scenario may draw (docs/simulator.md).</summary>
[Flags]
public enum FaultKinds
{
    /// <summary>No faults beyond the base loss.</summary>
    None = 0,
    /// <summary>Partitions and merges (including intransitive ones).</summary>
    Partitions = 1 << 0,
    /// <summary>Crashes.</summary>
    Crashes = 1 << 1,
    /// <summary>Restarts of crashed daemons (with the persisted ring seq).</summary>
    Restarts = 1 << 2,
    /// <summary>One-way links.</summary>
    OneWay = 1 << 3,
    /// <summary>Stop-the-world pauses.</summary>
    Pauses = 1 << 4,
    /// <summary>Loss bursts on top of the base loss.</summary>
    LossBursts = 1 << 5,
    /// <summary>Every fault class.</summary>
    All = Partitions | Crashes | Restarts | OneWay | Pauses | LossBursts,
}

/// <summary>
/// One simulation run's parameters. A run is reproducible from (seed, scenario, config).
/// Times are simulated microseconds.
/// </summary>
public sealed record SimulationConfig
{
    /// <summary>Number of daemons (node ids 1..K).</summary>
    public int Daemons { get; init; } = 5;
    /// <summary>Run seed: drives the network, the load and the scenario.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Per-packet loss probability during the fault period.</summary>
    public double Loss { get; init; }
    /// <summary>Per-packet duplication probability during the fault period.</summary>
    public double Duplication { get; init; } = 0.01;
    /// <summary>Minimum one-way delay.</summary>
    public long DelayMinUs { get; init; } = 100;
    /// <summary>Maximum ordinary one-way delay (uniform between min and max: this reorders).</summary>
    public long DelayMaxUs { get; init; } = 600;
    /// <summary>Probability of a heavy-tail delay.</summary>
    public double TailProbability { get; init; } = 0.005;
    /// <summary>Maximum heavy-tail delay.</summary>
    public long TailMaxUs { get; init; } = 30_000;
    /// <summary>Per-node timer rate skew, as a fraction (0.05 = ±5 %).</summary>
    public double ClockSkew { get; init; } = 0.05;
    /// <summary>Fault classes drawn by the random scenario.</summary>
    public FaultKinds Faults { get; init; } = FaultKinds.All;
    /// <summary>Length of the fault period; everything heals at its end.</summary>
    public long FaultPeriodUs { get; init; } = 8_000_000;
    /// <summary>Loss- and fault-free period after healing, for liveness (P12).</summary>
    public long SettleUs { get; init; } = 4_000_000;
    /// <summary>Mean messages per second per daemon from the open-loop sender (0 = no load).</summary>
    public double SendRate { get; init; } = 100;
    /// <summary>Fraction of Safe messages in the load; the rest is Agreed, Fifo and Reliable.</summary>
    public double SafeFraction { get; init; } = 0.3;
    /// <summary>Ring timeouts and constants.</summary>
    public RingOptions Ring { get; init; } = new();
    /// <summary>Run the group layer on the ring with client churn, and check G-P1 at the end.</summary>
    public bool Groups { get; init; }
    /// <summary>
    /// With <see cref="Groups"/>: each daemon holds its client requests while its table runs a state
    /// exchange (ring-protocol.md §5.3 J6). False only to show what the hold prevents (G-J6).
    /// </summary>
    public bool HoldClientRequests { get; init; } = true;
    /// <summary>Keep the whole trace (needed for the checker).</summary>
    public bool RecordTrace { get; init; } = true;
}
