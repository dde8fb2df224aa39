using System.Globalization;
using System.Net;
using Conclave.Client;
using Conclave.Daemon;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Conclave.Hosting.Tests;

/// <summary>Test hosts built the way an application builds them, with configuration from memory.</summary>
internal static class TestHosts
{
    /// <summary>Upper bound for one expected event; a failure guard, not a synchronisation.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static HostApplicationBuilder Builder(IDictionary<string, string?> settings)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }

    /// <summary>A daemon alone on an ephemeral loopback TCP port, or on <paramref name="port"/> (a restart).</summary>
    public static SpreadDaemon StartDaemon(int port = 0)
    {
        var daemon = new SpreadDaemon(new DaemonOptions
        {
            Name = "localhost",
            TcpEndpoints = [new IPEndPoint(IPAddress.Loopback, port)],
            UnixSocketPath = null,
            HandshakeTimeout = TimeSpan.FromMinutes(1), // no timing in tests: a starved run must not become REJECT_AUTH
        });
        daemon.Start();
        return daemon;
    }

    public static string SpreadName(SpreadDaemon daemon) =>
        daemon.TcpEndpoints[0].Port.ToString(CultureInfo.InvariantCulture) + "@127.0.0.1";

    /// <summary>Receives until a message matches; fails after the patience.</summary>
    public static async Task<T> ReceiveUntilAsync<T>(Func<CancellationToken, ValueTask<SpreadMessage>> receive, Func<T, bool> match)
        where T : SpreadMessage
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            if (await receive(timeout.Token) is T message && match(message))
            {
                return message;
            }
        }
    }

    public static Task<T> WithPatience<T>(this Task<T> task) => task.WaitAsync(Patience);
}
