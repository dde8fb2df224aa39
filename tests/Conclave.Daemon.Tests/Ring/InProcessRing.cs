using System.Net;
using Conclave.Client;
using Conclave.Daemon.Network;
using Conclave.Protocol.Ring;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>
/// In-process daemons forming a ring over sealed UDP on 127.0.0.1, each on its own UDP port, plus
/// optional extra configured endpoints that no daemon serves (a test socket can sit there and
/// receive what the daemons multicast).
/// </summary>
internal sealed class InProcessRing : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("conclave-inring-").FullName;

    private InProcessRing(ClusterKey key) => Key = key;

    public ClusterKey Key { get; }

    public List<SpreadDaemon> Daemons { get; } = [];

    /// <summary>Every configured UDP endpoint, in node order (node id = index + 1).</summary>
    public IReadOnlyList<IPEndPoint> Endpoints { get; private set; } = [];

    /// <summary>Starts <paramref name="daemons"/> daemons d1..dN; <paramref name="extra"/> endpoints follow them in the configuration.</summary>
    public static InProcessRing Start(int daemons, params IPEndPoint[] extra) => Start(daemons, DaemonRingOptions.DefaultLinkSegmentSize, extra);

    /// <summary>As <see cref="Start(int, IPEndPoint[])"/>, with the daemons' <c>LinkSegmentSize</c> (0: off).</summary>
    public static InProcessRing Start(int daemons, int linkSegmentSize, params IPEndPoint[] extra)
    {
        var ring = new InProcessRing(ClusterKey.Generate());
        var endpoints = new List<IPEndPoint>();
        for (int i = 0; i < daemons; i++)
        {
            endpoints.Add(new IPEndPoint(IPAddress.Loopback, RingDaemonProcess.FreeUdpPort()));
        }

        endpoints.AddRange(extra);
        ring.Endpoints = endpoints;
        string[] names = [.. Enumerable.Range(1, endpoints.Count).Select(i => i <= daemons ? $"d{i}" : $"x{i}")];
        var timers = new RingOptions
        {
            TokenTimeoutUs = 1_000_000,
            TokenRetransmitTimeoutUs = 250_000,
            JoinTimeoutUs = 100_000,
            ConsensusTimeoutUs = 1_200_000,
            MergeTimeoutUs = 500_000,
        };
        for (int i = 0; i < daemons; i++)
        {
            var options = new DaemonOptions
            {
                Name = names[i],
                ConfigurationOrder = names,
                TcpEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)],
                UnixSocketPath = null,
                HandshakeTimeout = ClientSessions.HandshakePatience,
                StatusSocketPath = ring.StatusSocket(i),
                Address = IPAddress.Loopback,
                Ring = new DaemonRingOptions
                {
                    Endpoints = endpoints,
                    Key = ring.Key,
                    Timers = timers,
                    StateDirectory = Path.Combine(ring._dir, names[i]),
                    LinkSegmentSize = linkSegmentSize,
                },
            };
            var daemon = new SpreadDaemon(options);
            ring.Daemons.Add(daemon);
            daemon.Start();
        }

        return ring;
    }

    /// <summary>The owner-only status socket of daemon <paramref name="index"/> (0-based).</summary>
    public string StatusSocket(int index) => Path.Combine(_dir, $"d{index + 1}.status");

    public string SpreadName(int index) => $"{Daemons[index].TcpEndpoints[0].Port}@127.0.0.1";

    /// <summary>Polls every daemon's status until <paramref name="done"/> holds for all; fails after the patience.</summary>
    public async Task WaitUntilAsync(Func<DaemonRingStatus, bool> done, string what)
    {
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        while (!Daemons.All(d => d.Statistics.Ring is { } status && done(status)))
        {
            if (timeout.IsCancellationRequested)
            {
                string states = string.Join("; ", Daemons.Select(d => d.Statistics.Ring?.ToString()));
                throw new TimeoutException($"waiting for {what}: {states}");
            }

            await Task.Delay(20, CancellationToken.None); // A polling interval; the condition is the synchronisation.
        }
    }

    /// <summary>Waits until every daemon is operational in a regular configuration of exactly <paramref name="members"/>.</summary>
    public Task WaitForRegularAsync(params string[] members) =>
        WaitUntilAsync(s => s.State == "Operational" && s.Members.SequenceEqual(members), $"a regular configuration of {string.Join(",", members)}");

    /// <summary>Each client sends <paramref name="count"/> AGREED messages to <paramref name="group"/>; returns each client's delivery order.</summary>
    public static async Task<List<List<string>>> ExchangeAsync(IReadOnlyList<GroupConnection> clients, string group, int count, short baseType)
    {
        for (int i = 0; i < count; i++)
        {
            foreach (GroupConnection client in clients)
            {
                await client.MulticastAsync(ServiceType.Agreed, group, (short)(baseType + i), new byte[] { (byte)i });
            }
        }

        var orders = new List<List<string>>();
        foreach (GroupConnection client in clients)
        {
            var order = new List<string>();
            using var timeout = new CancellationTokenSource(ClientSessions.Patience);
            while (order.Count < count * clients.Count)
            {
                if (await client.ReceiveAsync(timeout.Token) is DataMessage data && data.MessageType >= baseType)
                {
                    order.Add($"{data.Sender}:{data.MessageType}");
                }
            }

            orders.Add(order);
        }

        return orders;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (SpreadDaemon daemon in Daemons)
        {
            await daemon.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }
}
