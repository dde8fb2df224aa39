using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Conclave.Daemon;
using Conclave.Daemon.Network;

namespace Conclave.Cli.Commands.Groups;

/// <summary>
/// Three in-process daemons d1, d2, d3 forming a ring over sealed UDP on 127.0.0.1 (distinct ports), for
/// `conclave bench groups`. Clients connect over TCP as they would to separate daemon processes.
/// </summary>
internal sealed class BenchRing : IAsyncDisposable
{
    private readonly string _stateDirectory = Directory.CreateTempSubdirectory("conclave-bench-groups-").FullName;
    private readonly List<SpreadDaemon> _daemons = [];

    /// <summary>The daemons' ring counters (token visits, packets sent), read from their instruments.</summary>
    public RingCounters Counters { get; } = new();

    private BenchRing()
    {
    }

    public IReadOnlyList<string> Names { get; } = ["d1", "d2", "d3"];

    /// <summary>Frames the three daemons have written to their clients so far (every delivery to every member counts one).</summary>
    public long FramesToClients => _daemons.Sum(d => d.Statistics.FramesOut);

    /// <summary>Each daemon's ring, deliveries and drops (a stall's report: a reconfiguration, a loss at the ring or in the group layer).</summary>
    public string Report => string.Join("; ", _daemons.Select((d, i) => d.Statistics is { } s
        ? $"{Names[i]}: ring {s.Ring?.RingId} {s.Ring?.State}, delivered {s.Ring?.MessagesDelivered}, retransmitted {s.Ring?.Retransmitted}, token re-sends {s.Ring?.TokenRetransmits}, frames out {s.FramesOut}, slow readers {s.SlowReadersDisconnected}, group messages dropped {s.GroupMessagesDropped} (during exchange {s.RequestsDuringExchange}), data for gone sessions {s.DataForGoneSessions}"
        : ""));

    /// <summary><c>PORT@127.0.0.1</c> of daemon <paramref name="index"/> (0-based).</summary>
    public string SpreadName(int index) => $"{_daemons[index].TcpEndpoints[0].Port}@127.0.0.1";

    /// <summary>Starts the three daemons and waits until they form one operational ring.</summary>
    /// <param name="tokenHoldUs">The ring's idle token hold (µs, 0: never), or null for the ring's default.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    public static async Task<BenchRing> StartAsync(long? tokenHoldUs, CancellationToken cancellationToken)
    {
        var timers = new Conclave.Protocol.Ring.RingOptions();
        if (tokenHoldUs is { } holdUs)
        {
            timers = timers with { TokenHoldTimeoutUs = holdUs };
        }

        var ring = new BenchRing();
        try
        {
            var key = ClusterKey.Generate();
            List<IPEndPoint> endpoints = ring.Names.Select(_ => new IPEndPoint(IPAddress.Loopback, FreeUdpPort())).ToList();
            foreach (string name in ring.Names)
            {
                var daemon = new SpreadDaemon(new DaemonOptions
                {
                    Name = name,
                    ConfigurationOrder = ring.Names,
                    TcpEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)],
                    UnixSocketPath = null,
                    Address = IPAddress.Loopback,
                    Ring = new DaemonRingOptions { Endpoints = endpoints, Key = key, StateDirectory = Path.Combine(ring._stateDirectory, name), Timers = timers },
                });
                ring._daemons.Add(daemon);
                daemon.Start();
            }

            await ring.WaitForRingAsync(cancellationToken);
            return ring;
        }
        catch
        {
            await ring.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (SpreadDaemon daemon in _daemons)
        {
            await daemon.DisposeAsync();
        }

        Counters.Dispose();

        Directory.Delete(_stateDirectory, recursive: true);
    }

    private async Task WaitForRingAsync(CancellationToken cancellationToken)
    {
        var patience = Stopwatch.StartNew();
        while (!_daemons.All(d => d.Statistics.Ring is { State: "Operational" } status && status.Members.Count == Names.Count))
        {
            if (patience.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException("the three daemons did not form a ring: " + string.Join("; ", _daemons.Select(d => d.Statistics.Ring?.ToString())));
            }

            await Task.Delay(20, cancellationToken); // polling the daemons' status; nothing to wait on instead
        }
    }

    private static int FreeUdpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
