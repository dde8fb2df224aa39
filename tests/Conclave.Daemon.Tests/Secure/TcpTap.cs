using System.Net;
using System.Net.Sockets;

namespace Conclave.Daemon.Tests.Secure;

/// <summary>A TCP relay in front of a daemon that keeps a copy of every byte a client sends it and receives from it.</summary>
internal sealed class TcpTap : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _daemon;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _relays = [];
    private readonly MemoryStream _seen = new();
    private readonly Task _accept;

    public TcpTap(IPEndPoint daemon)
    {
        _daemon = daemon;
        _listener.Start();
        _accept = AcceptAsync();
    }

    /// <summary><c>PORT@127.0.0.1</c> of the relay.</summary>
    public string SpreadName => $"{((IPEndPoint)_listener.LocalEndpoint).Port}@127.0.0.1";

    /// <summary>Everything that crossed the relay so far, both directions.</summary>
    public byte[] Seen()
    {
        lock (_seen)
        {
            return _seen.ToArray();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accept.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Task.WhenAll(_relays).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var upstream = new TcpClient();
            await upstream.ConnectAsync(_daemon, _stop.Token);
            lock (_relays)
            {
                _relays.Add(PumpAsync(client, upstream));
                _relays.Add(PumpAsync(upstream, client));
            }
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        var buffer = new byte[65536];
        try
        {
            while (true)
            {
                int n = await from.GetStream().ReadAsync(buffer, _stop.Token);
                if (n == 0)
                {
                    break;
                }

                lock (_seen)
                {
                    _seen.Write(buffer, 0, n);
                }

                await to.GetStream().WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // One side closed: close the other.
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }
}
