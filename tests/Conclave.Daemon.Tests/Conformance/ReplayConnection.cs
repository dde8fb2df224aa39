using System.Net;
using System.Net.Sockets;

namespace Conclave.Daemon.Tests.Conformance;

/// <summary>A raw client socket whose received bytes are collected by a pump; tests wait on byte counts, never on time.</summary>
internal sealed class ReplayConnection : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly Socket _socket;
    private readonly MemoryStream _received = new();
    private readonly SemaphoreSlim _changed = new(0);
    private readonly Task _pump;
    private bool _ended;

    private ReplayConnection(Socket socket)
    {
        _socket = socket;
        _pump = Task.Run(PumpAsync);
    }

    public static async Task<ReplayConnection> OpenAsync(IPEndPoint endpoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endpoint);
        return new ReplayConnection(socket);
    }

    /// <summary>True once the daemon closed or reset the connection.</summary>
    public bool Ended
    {
        get
        {
            lock (_received)
            {
                return _ended;
            }
        }
    }

    public byte[] Received
    {
        get
        {
            lock (_received)
            {
                return _received.ToArray();
            }
        }
    }

    public async Task SendAsync(byte[] data)
    {
        try
        {
            await _socket.SendAsync(data, SocketFlags.None);
        }
        catch (SocketException)
        {
            // The daemon may already have closed this session (it is what some scenarios test).
        }
    }

    public void ShutdownSend()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> bytes arrived (or the daemon closed).</summary>
    public async Task WaitForBytesAsync(long count, string what)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            lock (_received)
            {
                if (_received.Length >= count || _ended)
                {
                    return;
                }
            }

            try
            {
                await _changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{what}: waited for {count} bytes, have {Received.Length}");
            }
        }
    }

    /// <summary>Waits until the daemon closes the connection.</summary>
    public async Task WaitForEndAsync(string what)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!Ended)
        {
            try
            {
                await _changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{what}: the daemon did not close the connection");
            }
        }
    }

    private async Task PumpAsync()
    {
        byte[] buffer = new byte[1 << 16];
        try
        {
            while (true)
            {
                int n = await _socket.ReceiveAsync(buffer, SocketFlags.None);
                if (n == 0)
                {
                    break;
                }

                lock (_received)
                {
                    _received.Write(buffer, 0, n);
                }

                _changed.Release();
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // A reset counts as the daemon closing (README comparison rule 6).
        }

        lock (_received)
        {
            _ended = true;
        }

        _changed.Release();
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _pump;
        _changed.Dispose();
        await _received.DisposeAsync();
    }
}
