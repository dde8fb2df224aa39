using System.Net;
using System.Net.Sockets;
using Conclave.Daemon;
using Conclave.Daemon.Network;
using Conclave.Protocol.Ring;

namespace Conclave.Cli.Commands;

/// <summary>`conclave demo`'s daemons: in-process daemons d1..dN forming a ring over sealed UDP on 127.0.0.1; one can be stopped and restarted.</summary>
internal sealed class DemoRing : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("conclave-demo-").FullName;
    private readonly ClusterKey _key = ClusterKey.Generate();
    private readonly IPEndPoint[] _endpoints;
    private readonly string[] _names;
    private readonly SpreadDaemon?[] _daemons;

    public DemoRing(int count)
    {
        _endpoints = [.. Enumerable.Range(0, count).Select(_ => new IPEndPoint(IPAddress.Loopback, FreeUdpPort()))];
        _names = [.. Enumerable.Range(1, count).Select(i => $"d{i}")];
        _daemons = new SpreadDaemon?[count];
        for (int i = 0; i < count; i++)
        {
            Start(i);
        }
    }

    public string Name(int index) => _names[index];

    /// <summary><c>PORT@127.0.0.1</c> of a running daemon.</summary>
    public string SpreadName(int index) => $"{_daemons[index]!.TcpEndpoints[0].Port}@127.0.0.1";

    /// <summary>Starts (or restarts) daemon <paramref name="index"/> on its configured UDP endpoint.</summary>
    public void Start(int index)
    {
        var options = new DaemonOptions
        {
            Name = _names[index],
            ConfigurationOrder = _names,
            TcpEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)],
            UnixSocketPath = null,
            Address = IPAddress.Loopback,
            Ring = new DaemonRingOptions
            {
                Endpoints = _endpoints,
                Key = _key,
                Timers = new RingOptions
                {
                    TokenTimeoutUs = 1_000_000,
                    TokenRetransmitTimeoutUs = 250_000,
                    JoinTimeoutUs = 100_000,
                    ConsensusTimeoutUs = 1_200_000,
                    MergeTimeoutUs = 500_000,
                },
                StateDirectory = Path.Combine(_dir, _names[index]),
            },
        };
        var daemon = new SpreadDaemon(options);
        daemon.Start();
        _daemons[index] = daemon;
    }

    /// <summary>Stops daemon <paramref name="index"/> abruptly: its sessions drop, the others see it vanish.</summary>
    public async Task StopAsync(int index)
    {
        if (_daemons[index] is SpreadDaemon daemon)
        {
            _daemons[index] = null;
            await daemon.DisposeAsync();
        }
    }

    /// <summary>Waits until every running daemon is operational in a configuration of exactly the running daemons.</summary>
    public async Task WaitForRingAsync(CancellationToken cancellationToken)
    {
        string[] running = [.. Enumerable.Range(0, _daemons.Length).Where(i => _daemons[i] is not null).Select(i => _names[i])];
        while (!_daemons.All(d => d is null || (d.Statistics.Ring is { } s && s.State == "Operational" && s.Members.SequenceEqual(running))))
        {
            await Task.Delay(20, cancellationToken); // Polling the daemons' status; nothing to wait on in-process.
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = 0; i < _daemons.Length; i++)
        {
            await StopAsync(i);
        }

        Directory.Delete(_dir, recursive: true);
    }

    private static int FreeUdpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
