using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Internal;

/// <summary>
/// Buffered reads from the daemon's socket: single bytes for the handshake (whose replies arrive in
/// arbitrary fragments), then whole frames into pooled buffers.
/// </summary>
internal sealed class FrameReader
{
    // Larger than a typical frame so small messages are parsed out of one receive, batch by batch.
    private const int BufferSize = 64 * 1024;

    // Upper bound on what one incoming frame may claim: the largest legal message plus a generous member list.
    private const long MaxIncomingFrame = SpreadLimits.MaxMessageBodyLength + (1L << 20);

    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _start;
    private int _end;
    private bool _torn;

    public FrameReader(Socket socket) => _socket = socket;

    public async ValueTask<byte> ReadByteAsync(CancellationToken cancellationToken)
    {
        if (_start == _end)
        {
            await FillAsync(1, cancellationToken).ConfigureAwait(false);
        }

        return _buffer[_start++];
    }

    public async ValueTask ReadExactAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (!destination.IsEmpty)
        {
            if (_start == _end)
            {
                await FillAsync(1, cancellationToken).ConfigureAwait(false);
            }

            int n = Math.Min(destination.Length, _end - _start);
            _buffer.AsSpan(_start, n).CopyTo(destination.Span);
            _start += n;
            destination = destination[n..];
        }
    }

    /// <summary>Reads one frame: header, the reject's old type word if any, names and body.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<SpreadFrame> ReadFrameAsync(CancellationToken cancellationToken)
    {
        if (_torn)
        {
            throw new SpreadException(SpreadError.ConnectionClosed, "An earlier receive was cancelled half-way through a frame; the stream cannot be resynchronised.");
        }

        // A cancellation before the header is complete leaves the buffer intact, so the next call resumes.
        if (_end - _start < MessageHeader.Size)
        {
            await FillAsync(MessageHeader.Size, cancellationToken).ConfigureAwait(false);
        }

        MessageHeader header = MessageHeader.Parse(_buffer.AsSpan(_start, MessageHeader.Size));
        int extra = (header.Type & ServiceType.Reject) != 0 ? 4 : 0;
        if (header.NumGroups < 0 || header.DataLength < 0 || header.PayloadLength + extra > MaxIncomingFrame)
        {
            ThrowMalformed(header);
        }

        int total = MessageHeader.Size + extra + (int)header.PayloadLength;
        byte[] frame = ArrayPool<byte>.Shared.Rent(total);
        int buffered = Math.Min(total, _end - _start);
        _buffer.AsSpan(_start, buffered).CopyTo(frame);
        _start += buffered;
        if (buffered < total)
        {
            try
            {
                await ReadRestAsync(frame.AsMemory(buffered, total - buffered), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // The header is consumed: whatever happened, the stream has lost its frame boundary.
                _torn = true;
                ArrayPool<byte>.Shared.Return(frame);
                throw;
            }
        }

        return new SpreadFrame(frame, header);
    }

    private async ValueTask ReadRestAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        // Large remainders go straight from the socket into the frame; small ones through the buffer,
        // which also picks up the frames that follow in the same receive.
        while (destination.Length >= BufferSize / 2)
        {
            int n = await ReceiveAsync(destination, cancellationToken).ConfigureAwait(false);
            destination = destination[n..];
        }

        await ReadExactAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Receives until at least <paramref name="needed"/> bytes are buffered.</summary>
    private async ValueTask FillAsync(int needed, CancellationToken cancellationToken)
    {
        if (_start > 0 && _start == _end)
        {
            _start = _end = 0;
        }
        else if (_buffer.Length - _start < needed)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        while (_end - _start < needed)
        {
            _end += await ReceiveAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<int> ReceiveAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        int n;
        try
        {
            n = await _socket.ReceiveAsync(destination, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new SpreadException(SpreadError.ConnectionClosed, $"The connection to the Spread daemon failed: {e.Message}", e);
        }
        catch (ObjectDisposedException e)
        {
            throw new SpreadException(SpreadError.ConnectionClosed, "The connection was closed locally.", e);
        }

        if (n == 0)
        {
            throw new SpreadException(SpreadError.ConnectionClosed);
        }

        return n;
    }

    private static void ThrowMalformed(MessageHeader header) =>
        throw new SpreadException(
            SpreadError.IllegalMessage,
            $"The daemon sent a frame with num_groups {header.NumGroups} and data_len {header.DataLength}.");
}
