using System.Net;
using System.Net.Sockets;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests;

/// <summary>A send waits while the daemon does not read, and completes once it does: no "try again".</summary>
public sealed class BackPressureTests
{
    private readonly CancellationToken _hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;

    [Fact]
    public async Task A_large_send_waits_for_a_daemon_that_does_not_read_and_then_completes()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        // A small, fixed receive buffer (inherited by the accepted socket): together with the client's
        // send buffer (at most net.ipv4.tcp_wmem's 4 MiB) it holds far less than the 12 MB body.
        listener.ReceiveBufferSize = 64 * 1024;
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        Task<GroupConnection> connecting = GroupConnection.ConnectAsync($"{port}@127.0.0.1", "bp", false, _hangGuard).AsTask();
        using Socket daemon = await listener.AcceptAsync(_hangGuard);
        await ReceiveAsync(daemon, 5 + 2);
        await daemon.SendAsync(AuthExchange.EncodeMethodList([AuthExchange.NullMethod]));
        await ReceiveAsync(daemon, SpreadLimits.AuthChoiceSize);
        await daemon.SendAsync(AcceptReply.Encode(SpreadLimits.ProtocolVersion, SpreadLimits.ProtocolVersion, "#bp#here"));
        await using GroupConnection connection = await connecting;

        byte[] body = new byte[12_000_000];
        body[^1] = 0xEE;
        Task send = connection.MulticastAsync(ServiceType.Agreed, "g", 0, body, _hangGuard).AsTask();
        Assert.False(send.IsCompleted, "12 MB cannot fit in the socket buffers, so the send must still be waiting");

        byte[] received = await ReceiveAsync(daemon, MessageHeader.Size + SpreadLimits.GroupNameSize + body.Length);
        await send;

        Assert.Equal(body.Length, MessageHeader.Parse(received).DataLength);
        Assert.Equal(0xEE, received[^1]);
    }

    private async Task<byte[]> ReceiveAsync(Socket socket, int count)
    {
        byte[] buffer = new byte[count];
        int at = 0;
        while (at < count)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(at), SocketFlags.None, _hangGuard);
            Assert.NotEqual(0, n);
            at += n;
        }

        return buffer;
    }
}
