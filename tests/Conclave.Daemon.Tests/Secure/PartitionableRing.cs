using System.Net;
using Conclave.Daemon.Network;
using Conclave.Daemon.Tests.Ring;
using Conclave.Protocol.Ring;

namespace Conclave.Daemon.Tests.Secure;

/// <summary>
/// In-process daemons d1..dN whose ring links run through <see cref="UdpRelay"/>s, one per direction and pair, so
/// a test can partition the daemons into components and heal them again (UDP lost between components, both
/// ways), with the daemons, their client sessions and their state untouched.
/// </summary>
internal sealed class PartitionableRing : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("conclave-pring-").FullName;
    private readonly UdpRelay?[,] _links;

    private PartitionableRing(int count) => _links = new UdpRelay?[count, count];

    public List<SpreadDaemon> Daemons { get; } = [];

    /// <summary>Starts <paramref name="count"/> daemons; each one's view of a peer's endpoint is the relay to that peer.</summary>
    public static PartitionableRing Start(int count)
    {
        var ring = new PartitionableRing(count);
        ClusterKey key = ClusterKey.Generate();
        IPEndPoint[] own = [.. Enumerable.Range(0, count).Select(_ => new IPEndPoint(IPAddress.Loopback, RingDaemonProcess.FreeUdpPort()))];
        string[] names = [.. Enumerable.Range(1, count).Select(i => $"d{i}")];
        // Shorter than the daemon defaults' robustness margin but long enough for a loaded 2-core machine.
        var timers = new RingOptions
        {
            TokenTimeoutUs = 600_000,
            TokenRetransmitTimeoutUs = 150_000,
            JoinTimeoutUs = 60_000,
            ConsensusTimeoutUs = 700_000,
            MergeTimeoutUs = 250_000,
        };
        for (int from = 0; from < count; from++)
        {
            for (int to = 0; to < count; to++)
            {
                if (from != to)
                {
                    ring._links[from, to] = new UdpRelay(own[to]);
                }
            }
        }

        for (int i = 0; i < count; i++)
        {
            IPEndPoint[] endpoints = [.. Enumerable.Range(0, count).Select(j => j == i ? own[i] : ring._links[i, j]!.Endpoint)];
            var options = new DaemonOptions
            {
                Name = names[i],
                ConfigurationOrder = names,
                TcpEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)],
                UnixSocketPath = null,
                HandshakeTimeout = ClientSessions.HandshakePatience,
                StatusSocketPath = Path.Combine(ring._dir, $"{names[i]}.status"),
                Address = IPAddress.Loopback,
                Ring = new DaemonRingOptions
                {
                    Endpoints = endpoints,
                    Key = key,
                    Timers = timers,
                    StateDirectory = Path.Combine(ring._dir, names[i]),
                },
            };
            var daemon = new SpreadDaemon(options);
            ring.Daemons.Add(daemon);
            daemon.Start();
        }

        return ring;
    }

    /// <summary>The client endpoint of daemon <paramref name="index"/> (0-based).</summary>
    public IPEndPoint ClientEndpoint(int index) => Daemons[index].TcpEndpoints[0];

    /// <summary>
    /// Cuts every link between daemons of different <paramref name="components"/> (1-based daemon numbers) and
    /// restores every link inside one, all at once: a partition, a heal, or both in one network change.
    /// </summary>
    public void Partition(params int[][] components)
    {
        int[] componentOf = new int[Daemons.Count];
        for (int c = 0; c < components.Length; c++)
        {
            foreach (int daemon in components[c])
            {
                componentOf[daemon - 1] = c + 1;
            }
        }

        if (componentOf.Contains(0))
        {
            throw new ArgumentException("Every daemon must be in one component.", nameof(components));
        }

        for (int from = 0; from < Daemons.Count; from++)
        {
            for (int to = 0; to < Daemons.Count; to++)
            {
                if (_links[from, to] is { } link)
                {
                    link.Cut = componentOf[from] != componentOf[to];
                }
            }
        }
    }

    /// <summary>Restores every link.</summary>
    public void Heal() => Partition(Enumerable.Range(1, Daemons.Count).ToArray());

    /// <summary>Waits until each daemon of each component is operational in a regular configuration of exactly its component.</summary>
    public async Task WaitForComponentsAsync(params int[][] components)
    {
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        while (!components.All(c => c.All(d => Daemons[d - 1].Statistics.Ring is { State: "Operational" } s && s.Members.SequenceEqual(c.Select(x => $"d{x}")))))
        {
            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"waiting for rings {string.Join(" | ", components.Select(c => string.Join(",", c)))}: {string.Join("; ", Daemons.Select(d => d.Statistics.Ring?.ToString()))}");
            }

            await Task.Delay(20, CancellationToken.None); // A polling interval; the condition is the synchronisation.
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (SpreadDaemon daemon in Daemons)
        {
            await daemon.DisposeAsync();
        }

        foreach (UdpRelay? link in _links)
        {
            link?.Dispose();
        }

        Directory.Delete(_dir, recursive: true);
    }
}
