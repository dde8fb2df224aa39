namespace Conclave.Daemon;

/// <summary>What `conclave monitor` shows of one daemon: its counters, its ring and its groups.</summary>
public sealed record DaemonStatusReport
{
    /// <summary>The daemon's name in its configuration.</summary>
    public string Name { get; init; } = "";

    /// <summary>The daemon's counters, with its ring when it runs one.</summary>
    public DaemonStatistics Statistics { get; init; } = new();

    /// <summary>Every group in the daemon's table (across the ring), sorted by name.</summary>
    public IReadOnlyList<DaemonGroupStatus> Groups { get; init; } = [];
}

/// <summary>One group and its members, in the table's order.</summary>
/// <param name="Name">The group name.</param>
/// <param name="Members">Members' private group names (<c>#user#daemon</c>).</param>
public sealed record DaemonGroupStatus(string Name, IReadOnlyList<string> Members);
