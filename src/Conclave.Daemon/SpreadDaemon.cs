using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Conclave.Daemon.Diagnostics;
using Conclave.Daemon.Internal;
using Conclave.Daemon.Ring;
using Conclave.Daemon.Status;
using Conclave.Protocol.Groups;
using Conclave.Protocol.Ordering;
using Conclave.Protocol.Ring;
using Conclave.Protocol.Spread;
using Microsoft.Extensions.Logging;

namespace Conclave.Daemon;

/// <summary>
/// A Conclave daemon's client side: it accepts Spread 4 clients over TCP and a Unix-domain socket,
/// keeps their lightweight groups and delivers their messages and memberships.
/// </summary>
/// <remarks>
/// One event loop owns the group table and the ordering layer; each session has its own reader and
/// writer, so a slow or misbehaving client never blocks the loop or any other client.
/// </remarks>
public sealed class SpreadDaemon : IAsyncDisposable, ISessionHost, IDaemonMetricsSource
{
    private readonly ConcurrentDictionary<string, ClientSession> _sessions = new(StringComparer.Ordinal);
    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _tasks = [];
    private readonly DaemonCounters _counters = new();
    private readonly DaemonLoop _loop;
    private readonly ILogger _logger;
    private readonly List<IPEndPoint> _boundTcp = [];
    private readonly UdpRingHost? _ring;
    private readonly DaemonMetrics _metrics;
    private StatusServer? _status;
    private int _sessionCount;
    private bool _started;

    /// <summary>Creates a daemon; call <see cref="Start"/> to listen.</summary>
    public SpreadDaemon(DaemonOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _logger = options.LoggerFactory.CreateLogger("Conclave.Daemon");
        var configuration = new MembershipId(ProcIdOf(options.Address), (int)DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        // One host: a local sequencer orders everything; across daemons, the ring over UDP.
        _ring = options.Ring is null ? null : new UdpRingHost(options, _logger);
        _metrics = new DaemonMetrics(options, this);
        _loop = new DaemonLoop(options, _counters, _logger, _sessions, configuration,
            listener => _ring is null ? new LocalSequencer(listener) : _ring.CreateLayer(listener))
        {
            Metrics = _metrics,
        };
    }

    /// <summary>The options the daemon runs with.</summary>
    public DaemonOptions Options { get; }

    /// <summary>The TCP endpoints actually bound (ephemeral ports resolved).</summary>
    public IReadOnlyList<IPEndPoint> TcpEndpoints => _boundTcp;

    DaemonCounters ISessionHost.Counters => _counters;

    ILogger ISessionHost.Logger => _logger;

    DaemonCounters IDaemonMetricsSource.Counters => _counters;

    int IDaemonMetricsSource.EstablishedSessions => _sessions.Count(s => s.Value.IsEstablished);

    RingFlowCounters? IDaemonMetricsSource.RingFlow => _ring?.Machine?.Flow;

    DaemonRingStatus? IDaemonMetricsSource.RingStatus() => _started ? _ring?.Status() : null;

    (int Groups, int Members) IDaemonMetricsSource.GroupTotals() => _loop.GroupTotals();

    (long Dropped, long DuringExchange) IDaemonMetricsSource.GroupTableDrops()
    {
        (long dropped, long duringExchange, _) = _loop.TableDrops();
        return (dropped, duringExchange);
    }

    (int Total, int Deepest) IDaemonMetricsSource.QueuedMessages()
    {
        int total = 0, deepest = 0;
        foreach (ClientSession session in _sessions.Values)
        {
            int queued = session.QueuedMessages;
            total += queued;
            deepest = Math.Max(deepest, queued);
        }

        return (total, deepest);
    }

    /// <summary>A snapshot of the daemon's counters.</summary>
    public DaemonStatistics Statistics
    {
        get
        {
            (long dropped, long duringExchange, string? last) = _loop.TableDrops();
            return _counters.Snapshot(_sessions.Count(s => s.Value.IsEstablished), _loop.GroupCount) with
            {
                GroupMessagesDropped = dropped,
                RequestsDuringExchange = duringExchange,
                LastRequestDuringExchange = last,
                Ring = _started ? _ring?.Status() : null,
            };
        }
    }

    /// <summary>What `conclave monitor` shows: the counters, the ring and every group with its members.</summary>
    public DaemonStatusReport StatusReport() => new()
    {
        Name = Options.Name,
        Statistics = Statistics,
        Groups = _loop.Groups(),
    };

    /// <summary>Binds every listener and starts accepting clients.</summary>
    /// <exception cref="SocketException">A port or socket path is in use or cannot be bound.</exception>
    public void Start()
    {
        if (_started)
        {
            throw new InvalidOperationException("The daemon is already started.");
        }

        _started = true;
        try
        {
            _ring?.Start(_loop);
            Listen();
            if (Options.StatusSocketPath is { } statusPath)
            {
                _status = new StatusServer(statusPath, StatusReport);
                DaemonLog.Listening(_logger, Options.Name, $"{statusPath} (status)");
            }
        }
        catch
        {
            foreach (Socket listener in _listeners)
            {
                listener.Dispose();
            }

            throw;
        }
    }

    private void Listen()
    {
        foreach (IPEndPoint endpoint in Options.TcpEndpoints)
        {
            var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            _listeners.Add(listener);
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(endpoint);
            listener.Listen(512);
            var bound = (IPEndPoint)listener.LocalEndPoint!;
            _boundTcp.Add(bound);
            StartAccepting(listener, bound.ToString());
        }

        if (Options.UnixSocketPath is { } path)
        {
            UnixSocketFile.ClaimStale(path);
            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _listeners.Add(listener);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(512);
            StartAccepting(listener, path);
        }
    }

    private void StartAccepting(Socket listener, string name)
    {
        DaemonLog.Listening(_logger, Options.Name, name);
        _tasks.Add(Task.Run(() => AcceptLoopAsync(listener)));
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return; // The listener was closed.
            }

            if (client.AddressFamily != AddressFamily.Unix)
            {
                client.NoDelay = true;
            }

            string peer = client.RemoteEndPoint?.ToString() is { Length: > 0 } remote ? remote : "unix";
            if (Interlocked.Increment(ref _sessionCount) > Options.MaxSessions)
            {
                Interlocked.Decrement(ref _sessionCount);
                RefuseQuota(client, peer);
                continue;
            }

            var session = new ClientSession(client, this, peer);
            _ = Task.Run(async () =>
            {
                try
                {
                    await session.RunAsync();
                }
                finally
                {
                    Interlocked.Decrement(ref _sessionCount);
                }
            });
        }
    }

    private void RefuseQuota(Socket client, string peer)
    {
        Interlocked.Increment(ref _counters.HandshakesRejected);
        DaemonLog.HandshakeRejected(_logger, peer, "too many sessions");
        try
        {
            client.Send([unchecked((byte)(sbyte)SpreadError.RejectQuota)]);
        }
        catch (SocketException)
        {
        }

        client.Dispose();
    }

    bool ISessionHost.TryReserveName(string name, ClientSession session) =>
        _sessions.TryAdd(PrivateGroupName.Format(name, Options.Name), session);

    string ISessionHost.ReserveGeneratedName(ClientSession session)
    {
        while (true)
        {
            string name = $"r{Random.Shared.Next(0, 9999)}-{Random.Shared.Next(0, 100_000)}";
            name = name[..Math.Min(name.Length, 9)];
            if (_sessions.TryAdd(PrivateGroupName.Format(name, Options.Name), session))
            {
                return name;
            }
        }
    }

    void ISessionHost.ReleaseName(string name, ClientSession session) =>
        _sessions.TryRemove(new KeyValuePair<string, ClientSession>(PrivateGroupName.Format(name, Options.Name), session));

    void ISessionHost.Post(LoopItem item) => _loop.Post(item);

    /// <summary>Stops listening, closes every session and ends the loop.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (Socket listener in _listeners)
        {
            listener.Dispose();
        }

        if (Options.UnixSocketPath is { } path && _started)
        {
            UnixSocketFile.Remove(path);
        }

        _status?.Dispose();
        foreach (ClientSession session in _sessions.Values)
        {
            session.Close();
        }

        if (_ring is not null)
        {
            await _ring.DisposeAsync();
        }

        await Task.WhenAll(_tasks).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _metrics.Dispose();
        DaemonLog.Stopped(_logger, Options.Name);
    }

    /// <summary>Spread's proc_id: the IPv4 address as a host-order integer (127.0.0.1 → 0x7F000001).</summary>
    private static int ProcIdOf(IPAddress address)
    {
        byte[] bytes = address.MapToIPv4().GetAddressBytes();
        return (bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3];
    }
}
