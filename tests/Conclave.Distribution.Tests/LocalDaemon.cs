using System.Globalization;
using System.Net;
using Conclave.Daemon;

namespace Conclave.Distribution.Tests;

/// <summary>A daemon alone in this process on an ephemeral loopback TCP port.</summary>
internal sealed class LocalDaemon : IAsyncDisposable
{
    private LocalDaemon(SpreadDaemon daemon) => Daemon = daemon;

    public SpreadDaemon Daemon { get; }

    public string SpreadName => Daemon.TcpEndpoints[0].Port.ToString(CultureInfo.InvariantCulture) + "@127.0.0.1";

    public static LocalDaemon Start()
    {
        var daemon = new SpreadDaemon(new DaemonOptions
        {
            Name = "localhost",
            TcpEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)],
            UnixSocketPath = null,
            HandshakeTimeout = TimeSpan.FromMinutes(1), // no timing in tests: a starved run must not become REJECT_AUTH
        });
        daemon.Start();
        return new LocalDaemon(daemon);
    }

    public ValueTask DisposeAsync() => Daemon.DisposeAsync();
}
