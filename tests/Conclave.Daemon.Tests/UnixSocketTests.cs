using Conclave.Client;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Tests;

public sealed class UnixSocketTests
{
    [Fact]
    public async Task Clients_connect_through_the_unix_socket_by_port_number_as_libspread_does()
    {
        int port = 40_000 + Random.Shared.Next(20_000);
        await using TestDaemon daemon = TestDaemon.Start(o => o with { UnixSocketPath = $"/tmp/{port}" });
        await using GroupConnection alice = await GroupConnection.ConnectAsync(port.ToString(System.Globalization.CultureInfo.InvariantCulture), "alice", true);

        await alice.JoinAndWaitAsync("g");
        await alice.MulticastAsync(ServiceType.Agreed, "g", 1, new byte[] { 1 });

        Assert.Equal("#alice#localhost", (await alice.NextAsync<DataMessage>()).Sender);
    }

    [Fact]
    public async Task A_live_daemon_socket_is_never_stolen()
    {
        int port = 40_000 + Random.Shared.Next(20_000);
        await using TestDaemon first = TestDaemon.Start(o => o with { UnixSocketPath = $"/tmp/{port}" });

        Assert.ThrowsAny<System.Net.Sockets.SocketException>(() => TestDaemon.Start(o => o with { UnixSocketPath = $"/tmp/{port}" }));
    }
}
