using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Conclave.Daemon;

namespace Conclave.Client.Tests.EndToEnd;

/// <summary>A Conclave daemon named "localhost" in this process: TCP on an ephemeral loopback port, and a Unix socket /tmp/N.</summary>
internal sealed class InProcessDaemon : IAsyncDisposable
{
    private readonly Socket _reservation;

    private InProcessDaemon(SpreadDaemon daemon, int unixPort, Socket reservation)
    {
        Daemon = daemon;
        UnixPort = unixPort;
        _reservation = reservation;
    }

    public SpreadDaemon Daemon { get; }

    /// <summary>The N of the Unix socket /tmp/N: a number taken from an ephemeral TCP port so parallel runs do not collide.</summary>
    public int UnixPort { get; }

    public string TcpSpreadName => $"{Daemon.TcpEndpoints[0].Port}@127.0.0.1";

    public string UnixSpreadName => UnixPort.ToString(CultureInfo.InvariantCulture);

    public string SpreadName(bool unix) => unix ? UnixSpreadName : TcpSpreadName;

    public static InProcessDaemon Start(Func<DaemonOptions, DaemonOptions>? configure = null)
    {
        // The TCP port stays bound while the daemon lives, so no parallel test can draw the same N.
        var reservation = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        reservation.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int unixPort = ((IPEndPoint)reservation.LocalEndPoint!).Port;

        var options = new DaemonOptions
        {
            Name = "localhost",
            TcpEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)],
            UnixSocketPath = $"/tmp/{unixPort}",

            // The 1 s default (Spread's) would turn a CPU-starved test run into REJECT_AUTH: no timing in tests.
            HandshakeTimeout = TimeSpan.FromMinutes(1),
        };
        var daemon = new SpreadDaemon(configure?.Invoke(options) ?? options);
        daemon.Start();
        return new InProcessDaemon(daemon, unixPort, reservation);
    }

    public async ValueTask DisposeAsync()
    {
        await Daemon.DisposeAsync();
        _reservation.Dispose();
    }
}
