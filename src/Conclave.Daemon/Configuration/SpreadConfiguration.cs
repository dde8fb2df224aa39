using System.Net;

namespace Conclave.Daemon.Configuration;

/// <summary>A parsed and validated <c>spread.conf</c> (spread-daemon.md §2).</summary>
public sealed record SpreadConfiguration(IReadOnlyList<SpreadSegment> Segments, IReadOnlyDictionary<string, string> Settings)
{
    /// <summary>Every daemon, in configuration order (segments in file order, daemons in segment order).</summary>
    public IReadOnlyList<DaemonEntry> Daemons { get; } = [.. Segments.SelectMany(s => s.Daemons)];

    /// <summary>The configuration with one daemon, <c>localhost</c> at 127.0.0.1:4803 — what runs without a file.</summary>
    public static SpreadConfiguration Default { get; } = new(
        [new SpreadSegment(IPAddress.Parse("127.0.0.255"), 4803, [new DaemonEntry("localhost", IPAddress.Loopback, [])])],
        new Dictionary<string, string>(StringComparer.Ordinal));

    /// <summary>Per-session outbound queue limit (MaxSessionMessages, default 1000).</summary>
    public int MaxSessionMessages => IntSetting("MaxSessionMessages", 1000);

    /// <summary>Ring-wide flow-control window (Window, default 160).</summary>
    public int Window => IntSetting("Window", 160);

    /// <summary>Per-daemon window per token visit (PersonalWindow, default 20).</summary>
    public int PersonalWindow => IntSetting("PersonalWindow", 20);

    /// <summary>Finds the daemon entry called <paramref name="name"/>.</summary>
    public DaemonEntry? Find(string name) => Daemons.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.Ordinal));

    /// <summary>
    /// Picks this daemon's own entry as Spread does: by <paramref name="name"/> when given, the only daemon of a
    /// one-daemon configuration, else the one daemon with an address of this host.
    /// </summary>
    /// <param name="name">The daemon's name (<c>-n</c>, or the hosted <c>Name</c>), or null.</param>
    /// <param name="problem">Why no entry could be picked, for the caller to prefix with how to name one.</param>
    /// <returns>The entry, or null with <paramref name="problem"/> set.</returns>
    public DaemonEntry? SelectSelf(string? name, out string? problem)
    {
        problem = null;
        if (name is { Length: > 0 })
        {
            DaemonEntry? named = Find(name);
            problem = named is null ? $"daemon '{name}' is not in the configuration" : null;
            return named;
        }

        if (Daemons.Count == 1)
        {
            return Daemons[0];
        }

        var local = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses.Select(a => a.Address))
            .ToHashSet();
        List<DaemonEntry> mine = [.. Daemons.Where(d => local.Contains(d.Address))];
        if (mine.Count == 1)
        {
            return mine[0];
        }

        problem = mine.Count == 0
            ? "no daemon of the configuration has an address of this host"
            : $"several daemons of the configuration are on this host ({string.Join(", ", mine.Select(d => d.Name))})";
        return null;
    }

    /// <summary>The segment holding <paramref name="daemon"/>.</summary>
    public SpreadSegment SegmentOf(DaemonEntry daemon) => Segments.First(s => s.Daemons.Contains(daemon));

    /// <summary>An integer setting, or its default when absent.</summary>
    public int IntSetting(string keyword, int fallback) =>
        Settings.TryGetValue(keyword, out string? value) ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : fallback;
}

/// <summary>A <c>Spread_Segment</c>: a broadcast/multicast address, a port, and its daemons.</summary>
public sealed record SpreadSegment(IPAddress Address, int Port, IReadOnlyList<DaemonEntry> Daemons);

/// <summary>One daemon of a segment: its name, its address and optional per-purpose interfaces.</summary>
public sealed record DaemonEntry(string Name, IPAddress Address, IReadOnlyList<DaemonInterface> Interfaces)
{
    /// <summary>Addresses for client connections: the C (or untagged) interfaces, else the daemon's address.</summary>
    public IReadOnlyList<IPAddress> ClientAddresses => InterfacesFor('C');

    /// <summary>Addresses for daemon traffic: the D (or untagged) interfaces, else the daemon's address.</summary>
    public IReadOnlyList<IPAddress> DaemonAddresses => InterfacesFor('D');

    private List<IPAddress> InterfacesFor(char kind)
    {
        List<IPAddress> chosen = [.. Interfaces.Where(i => i.Kind == kind || i.Kind == null).Select(i => i.Address)];
        return chosen.Count > 0 ? chosen : [Address];
    }
}

/// <summary>An interface line in a daemon block: <c>D</c>aemon, <c>C</c>lient, <c>M</c>onitor, or null for all.</summary>
public sealed record DaemonInterface(char? Kind, IPAddress Address);
