using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Conclave.Daemon.Internal;

/// <summary>
/// The outbound side: frames queue up while the daemon's core handles a packet or a request, and
/// <see cref="Flush"/> writes them once it is done. The write starts on the flushing thread, so a
/// delivery usually reaches the socket without waking another thread (one hop fewer on every round
/// trip, and one gathered write per packet's worth of deliveries); only a write the socket cannot take
/// at once continues on the thread pool.
/// </summary>
internal sealed partial class ClientSession
{
    private const int MaxFramesPerWrite = 64;
    private const int MaxBytesPerWrite = 262_144;

    private readonly ConcurrentQueue<ReadOnlyMemory<byte>> _outbound = new();
    private readonly List<ArraySegment<byte>> _writeBatch = new(MaxFramesPerWrite);
    private int _queued;
    private int _writing;
    private int _writeFailed;

    /// <summary>Set and cleared by the daemon's core only: the session has frames its current item queued.</summary>
    internal bool FlushPending { get; set; }

    /// <summary>Writes the queued frames, unless a write is already under way (it takes them too).</summary>
    public void Flush()
    {
        if (!IsEstablished || IsClosed || Interlocked.CompareExchange(ref _writing, 1, 0) != 0)
        {
            return;
        }

        _ = DrainAsync();
    }

    private async Task DrainAsync()
    {
        try
        {
            while (true)
            {
                int bytes = 0;
                _writeBatch.Clear();
                while (_writeBatch.Count < MaxFramesPerWrite && bytes < MaxBytesPerWrite && _outbound.TryDequeue(out ReadOnlyMemory<byte> frame))
                {
                    if (!MemoryMarshal.TryGetArray(frame, out ArraySegment<byte> segment))
                    {
                        segment = frame.ToArray();
                    }

                    _writeBatch.Add(segment);
                    bytes += segment.Count;
                }

                if (_writeBatch.Count > 0)
                {
                    await _socket.SendAsync(_writeBatch, SocketFlags.None);
                    Interlocked.Add(ref _queued, -_writeBatch.Count);
                    continue;
                }

                // Nothing left: stop, then look again, since a frame queued just before the stop found a write under way.
                // (A full fence: the stop must be visible before the queue is looked at, or both sides could miss the frame.)
                Interlocked.Exchange(ref _writing, 0);
                if (_outbound.IsEmpty || Interlocked.CompareExchange(ref _writing, 1, 0) != 0)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            // The client is gone (or going). Stop writing but leave the reading side alone: frames the client sent
            // before it went away may still be waiting to be read, and they must be ordered before its disconnect.
            // The reader sees the end of the stream next and closes the session.
            Volatile.Write(ref _writeFailed, 1);
            while (_outbound.TryDequeue(out _))
            {
                Interlocked.Decrement(ref _queued);
            }
        }
    }
}
