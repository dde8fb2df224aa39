using System.Net;
using System.Net.Sockets;
using Conclave.Daemon;

namespace Conclave.Daemon.Tests;

/// <summary>An in-process daemon named "localhost" on an ephemeral loopback port, no Unix socket.</summary>
internal sealed class TestDaemon : IAsyncDisposable
{
    private TestDaemon(SpreadDaemon daemon) => Daemon = daemon;

    public SpreadDaemon Daemon { get; }

    public IPEndPoint Endpoint => Daemon.TcpEndpoints[0];

    public static TestDaemon Start(Func<DaemonOptions, DaemonOptions>? configure = null)
    {
        var options = new DaemonOptions
        {
            Name = "localhost",
            TcpEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)],
            UnixSocketPath = null,
            HandshakeTimeout = ClientSessions.HandshakePatience,
        };
        var daemon = new SpreadDaemon(configure?.Invoke(options) ?? options);
        daemon.Start();
        return new TestDaemon(daemon);
    }

    public async Task<Socket> ConnectRawAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(Endpoint);
        return socket;
    }

    public ValueTask DisposeAsync() => Daemon.DisposeAsync();
}
