using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Conclave.Daemon.Network;
using Conclave.Daemon.Tests.Ring;
using Conclave.Protocol.Ring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using N = Conclave.Daemon.Diagnostics.DaemonMetricNames;

namespace Conclave.Daemon.Tests.Diagnostics;

/// <summary>Two in-process daemons in a sealed ring over UDP, each with its own IMeterFactory.</summary>
public sealed class RingMetricsTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("conclave-metrics-").FullName;
    private readonly List<ServiceProvider> _services = [];
    private readonly List<SpreadDaemon> _daemons = [];

    [Fact]
    public async Task Ring_instruments_count_rotations_configurations_flow_control_and_dropped_packets()
    {
        IPEndPoint[] endpoints = [new(IPAddress.Loopback, RingDaemonProcess.FreeUdpPort()), new(IPAddress.Loopback, RingDaemonProcess.FreeUdpPort())];
        var key = ClusterKey.Generate();
        IMeterFactory d1 = StartDaemon("d1", endpoints, key);
        using var configurations = new MetricCollector<long>(d1, N.Meter, N.ConfigurationChanges);
        StartDaemon("d2", endpoints, key);
        using var members = new MetricCollector<long>(d1, N.Meter, N.RingMembers);
        using var rotations = new MetricCollector<long>(d1, N.Meter, N.TokenRotations);
        using var window = new MetricCollector<long>(d1, N.Meter, N.FlowControlWindow);
        using var allowed = new MetricCollector<long>(d1, N.Meter, N.FlowControlAllowed);
        using var sent = new MetricCollector<long>(d1, N.Meter, N.PacketsSent);
        using var dropped = new MetricCollector<long>(d1, N.Meter, N.PacketsDropped);

        await members.WaitForAsync(v => v == 2, "a ring of two");
        long first = rotations.Value() ?? 0;
        await rotations.WaitForAsync(v => v > first + 5, "the token to keep rotating");
        Assert.Equal(50, window.Value());
        Assert.InRange(allowed.Value() ?? -1, 0, 50);
        Assert.True(sent.Value() > 0);
        // d2 joining d1's ring: at least one transitional and one regular configuration at d1.
        Dictionary<string, long> kinds = configurations.GetMeasurementSnapshot()
            .GroupBy(m => (string)m.Tags[N.ConfigurationKindTag]!).ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        Assert.True(kinds.GetValueOrDefault("regular") >= 1, string.Join(",", kinds));
        Assert.True(kinds.GetValueOrDefault("transitional") >= 1, string.Join(",", kinds));

        Dictionary<string, long> before = dropped.Latest();
        Assert.Equal(7, before.Count);
        using (var junk = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            junk.SendTo(new byte[] { 1, 2, 3 }, endpoints[0]);
        }

        string malformed = $"{N.DropCauseTag}=malformed";
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        while (dropped.Latest()[malformed] != before[malformed] + 1)
        {
            await Task.Delay(20, timeout.Token); // A polling interval; the condition is the synchronisation.
        }
    }

    private IMeterFactory StartDaemon(string name, IPEndPoint[] endpoints, ClusterKey key)
    {
        ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _services.Add(services);
        IMeterFactory factory = services.GetRequiredService<IMeterFactory>();
        var daemon = new SpreadDaemon(new DaemonOptions
        {
            Name = name,
            ConfigurationOrder = ["d1", "d2"],
            TcpEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)],
            UnixSocketPath = null,
            HandshakeTimeout = ClientSessions.HandshakePatience,
            Address = IPAddress.Loopback,
            MeterFactory = factory,
            Ring = new DaemonRingOptions
            {
                Endpoints = endpoints,
                Key = key,
                Timers = new RingOptions { TokenTimeoutUs = 1_000_000, TokenRetransmitTimeoutUs = 250_000, JoinTimeoutUs = 100_000, ConsensusTimeoutUs = 1_200_000, MergeTimeoutUs = 500_000 },
                StateDirectory = Path.Combine(_dir, name),
            },
        });
        _daemons.Add(daemon);
        daemon.Start();
        return factory;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (SpreadDaemon daemon in _daemons)
        {
            await daemon.DisposeAsync();
        }

        foreach (ServiceProvider services in _services)
        {
            await services.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }
}
