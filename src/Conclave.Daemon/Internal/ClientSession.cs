using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Internal;

/// <summary>
/// One client connection: the handshake, a reader that turns frames into loop work, and a writer that
/// drains a bounded outbound queue. Reading and writing never block the daemon's loop.
/// </summary>
internal sealed partial class ClientSession : IDisposable
{
    private readonly Socket _socket;
    private readonly ISessionHost _host;
    private readonly PipeReader _input;
    private readonly CancellationTokenSource _lifetime = new();
    private int _closed;
    private int _accepted;

    public ClientSession(Socket socket, ISessionHost host, string peer)
    {
        _socket = socket;
        _host = host;
        Peer = peer;
        _input = PipeReader.Create(new NetworkStream(socket, ownsSocket: false), new StreamPipeReaderOptions(bufferSize: 65536, minimumReadSize: 16384));
    }

    /// <summary>Where the client connected from.</summary>
    public string Peer { get; }

    /// <summary>The name the client asked for or was given; empty before the handshake.</summary>
    public string UserName { get; private set; } = string.Empty;

    /// <summary><c>#user#daemon</c>; empty before the handshake.</summary>
    public string PrivateGroupName { get; private set; } = string.Empty;

    /// <summary>True when the client asked for membership messages.</summary>
    public bool WantsMembership { get; private set; }

    /// <summary>True once the handshake succeeded.</summary>
    public bool IsEstablished { get; private set; }

    /// <summary>
    /// True from just before the accept reply goes out: the client may be told its name, and others may address it,
    /// before <see cref="IsEstablished"/>; what comes for it meanwhile is queued and written after the reply.
    /// </summary>
    public bool IsAccepted => Volatile.Read(ref _accepted) != 0;

    /// <summary>Set by the loop once it has ordered this session's disconnect.</summary>
    public bool KillSubmitted { get; set; }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Frames queued for the client and not yet written.</summary>
    public int QueuedMessages => Volatile.Read(ref _queued);

    /// <summary>Runs the session until the client leaves or breaks the protocol.</summary>
    public async Task RunAsync()
    {
        CancellationToken token = _lifetime.Token;
        try
        {
            if (!await HandshakeAsync(token))
            {
                return;
            }

            IsEstablished = true;
            Interlocked.Increment(ref _host.Counters.SessionsAccepted);
            DaemonLog.SessionConnected(_host.Logger, PrivateGroupName, WantsMembership);
            Flush(); // Anything queued during the handshake.
            await ReadFramesAsync(token);
        }
        catch (OperationCanceledException)
        {
            // Closed by the daemon (slow reader, shutdown) or the handshake timed out.
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            DaemonLog.SocketError(_host.Logger, PrivateGroupName.Length > 0 ? PrivateGroupName : Peer, ex.Message);
        }
        finally
        {
            Close();
            if (IsEstablished)
            {
                _host.Post(new LoopItem(this, null, ServiceType.KillRequest, null));
            }
            else if (UserName.Length > 0)
            {
                _host.ReleaseName(UserName, this);
            }

            await _input.CompleteAsync();
            Dispose();
        }
    }

    /// <summary>Closes the connection and frees the session's resources.</summary>
    public void Dispose()
    {
        Close();
        _lifetime.Dispose();
    }

    /// <summary>
    /// Queues a frame for the client; <see cref="Flush"/> writes it. Past the bound the client is not reading: it is disconnected
    /// rather than allowed to hold memory or stall others. Returns false if the session is gone.
    /// </summary>
    public bool Enqueue(ReadOnlyMemory<byte> frame)
    {
        if (IsClosed || Volatile.Read(ref _writeFailed) != 0)
        {
            return false;
        }

        int queued = Interlocked.Increment(ref _queued);
        if (queued > _host.Options.MaxSessionMessages)
        {
            Interlocked.Increment(ref _host.Counters.SlowReadersDisconnected);
            DaemonLog.SlowReader(_host.Logger, PrivateGroupName, queued - 1);
            Close();
            return false;
        }

        Interlocked.Increment(ref _host.Counters.FramesOut);
        _outbound.Enqueue(frame);
        return true;
    }

    /// <summary>Closes the connection; idempotent, callable from any thread.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        try
        {
            _lifetime.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session's own run ended and disposed it while the daemon was closing it: nothing left to cancel.
        }
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer.
        }
        catch (ObjectDisposedException)
        {
        }

        _socket.Dispose();
    }
}
