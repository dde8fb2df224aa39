using System.Net.Sockets;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Tests;

/// <summary>A byte-level client for feeding the daemon input the client library would never produce.</summary>
internal sealed class RawClient : IAsyncDisposable
{
    private readonly Socket _socket;

    private RawClient(Socket socket) => _socket = socket;

    public static async Task<RawClient> ConnectAsync(TestDaemon daemon) => new(await daemon.ConnectRawAsync());

    /// <summary>Connects and completes a 4.4.0 handshake as <paramref name="name"/>.</summary>
    public static async Task<RawClient> HandshakeAsync(TestDaemon daemon, string name)
    {
        RawClient client = await ConnectAsync(daemon);
        await client.SendAsync(new ConnectRequest(SpreadLimits.ProtocolVersion, ConnectRequest.MembershipFlag, name).Encode());
        byte[] list = await client.ReadExactAsync(6);
        Assert.Equal(5, list[0]);
        await client.SendAsync(AuthExchange.EncodeChoice([AuthExchange.NullMethod]));
        byte[] accept = await client.ReadExactAsync(5);
        Assert.Equal(1, accept[0]);
        await client.ReadExactAsync(accept[4]);
        return client;
    }

    public async Task SendAsync(byte[] bytes)
    {
        try
        {
            await _socket.SendAsync(bytes, SocketFlags.None);
        }
        catch (SocketException)
        {
            // The daemon may have closed us already; callers check with ReadToEndAsync.
        }
    }

    public async Task<byte[]> ReadExactAsync(int count)
    {
        byte[] buffer = new byte[count];
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        int read = 0;
        try
        {
            while (read < count)
            {
                int n = await _socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    throw new EndOfStreamException($"closed after {read} of {count} bytes");
                }

                read += n;
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"waited {ClientSessions.Patience.TotalSeconds} s for {count} bytes from the daemon, got {read}");
        }

        return buffer;
    }

    /// <summary>Reads until the daemon closes or resets; returns what arrived.</summary>
    public async Task<byte[]> ReadToEndAsync()
    {
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        var all = new List<byte>();
        byte[] buffer = new byte[4096];
        try
        {
            while (true)
            {
                int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    break;
                }

                all.AddRange(buffer.AsSpan(0, n).ToArray());
            }
        }
        catch (SocketException)
        {
            // A reset also means "closed".
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"waited {ClientSessions.Patience.TotalSeconds} s for the daemon to close the connection; {all.Count} bytes came meanwhile");
        }

        return [.. all];
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
