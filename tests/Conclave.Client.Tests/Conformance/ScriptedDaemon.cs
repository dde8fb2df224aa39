using System.Net;
using System.Net.Sockets;

namespace Conclave.Client.Tests.Conformance;

/// <summary>
/// Plays the daemon side of one recorded stream on a loopback socket (port 0): each recorded d2c chunk
/// is written once the client has sent every c2d byte recorded before it, optionally split into odd
/// fragments; everything the client sends is collected for a byte-exact comparison.
/// </summary>
internal sealed class ScriptedDaemon : IAsyncDisposable
{
    private static readonly int[] FragmentSizes = [1, 1, 2, 3, 5, 7, 13, 31, 47, 48, 49, 100, 1000, 4096, 65537];

    private readonly Socket _listener;
    private readonly List<(long Gate, byte[] Bytes)> _writes = [];
    private readonly long _closeGate;
    private readonly Random? _fragmenter;
    private readonly CancellationToken _cancellationToken;
    private readonly List<byte> _received = [];
    private TaskCompletionSource _progress = NewSignal();
    private long _receivedCount;
    private bool _clientDone;

    public ScriptedDaemon(TranscriptStream stream, int? fragmentSeed, CancellationToken cancellationToken)
    {
        long sent = 0;
        foreach (Chunk chunk in stream.Chunks)
        {
            if (chunk.ToDaemon)
            {
                sent += chunk.Bytes.Length;
            }
            else
            {
                _writes.Add((sent, chunk.Bytes));
            }
        }

        // The daemon's own close: after the client bytes it had read by then.
        _closeGate = stream.DaemonEofMs is double eof
            ? stream.Chunks.Where(c => c.ToDaemon && c.TimeMs <= eof).Sum(c => (long)c.Bytes.Length)
            : -1;
        _fragmenter = fragmentSeed is int seed ? new Random(seed) : null;
        _cancellationToken = cancellationToken;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(1);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        Completion = RunAsync();
    }

    public int Port { get; }

    public string SpreadName => $"{Port}@127.0.0.1";

    /// <summary>Completes with every byte the client sent, once the client closed its side.</summary>
    public Task<byte[]> Completion { get; }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task<byte[]> RunAsync()
    {
        using Socket socket = await _listener.AcceptAsync(_cancellationToken);
        _listener.Dispose();
        socket.NoDelay = true;
        Task reading = ReadClientAsync(socket);
        foreach ((long gate, byte[] bytes) in _writes)
        {
            await WaitForClientBytesAsync(gate);
            if (!await WriteAsync(socket, bytes))
            {
                break;
            }
        }

        if (_closeGate >= 0)
        {
            await WaitForClientBytesAsync(_closeGate);
            try
            {
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // The client is gone already.
            }
        }

        await reading;
        lock (_received)
        {
            return [.. _received];
        }
    }

    private async Task ReadClientAsync(Socket socket)
    {
        byte[] buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, _cancellationToken);
                if (n == 0)
                {
                    break;
                }

                lock (_received)
                {
                    _received.AddRange(buffer.AsSpan(0, n));
                    _receivedCount += n;
                }

                Interlocked.Exchange(ref _progress, NewSignal()).TrySetResult();
            }
        }
        catch (SocketException)
        {
            // A reset is a close, as the recordings' README says.
        }
        finally
        {
            Volatile.Write(ref _clientDone, true);
            Interlocked.Exchange(ref _progress, NewSignal()).TrySetResult();
        }
    }

    private async Task WaitForClientBytesAsync(long gate)
    {
        while (true)
        {
            Task signal = Volatile.Read(ref _progress).Task;
            lock (_received)
            {
                if (_receivedCount >= gate)
                {
                    return;
                }
            }

            if (Volatile.Read(ref _clientDone))
            {
                return; // the comparison of the collected bytes reports what is missing
            }

            await signal.WaitAsync(_cancellationToken);
        }
    }

    private async Task<bool> WriteAsync(Socket socket, byte[] bytes)
    {
        try
        {
            int at = 0;
            while (at < bytes.Length)
            {
                int size = _fragmenter is null ? bytes.Length : Math.Min(bytes.Length - at, FragmentSizes[_fragmenter.Next(FragmentSizes.Length)]);
                at += await socket.SendAsync(bytes.AsMemory(at, size), SocketFlags.None, _cancellationToken);
            }

            return true;
        }
        catch (SocketException)
        {
            return false; // the client closed; what it sent is still compared
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        try
        {
            await Completion.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is TimeoutException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Disposal after a failed test; the failure is reported elsewhere.
        }
    }
}
