using System.Buffers;
using System.Net.Sockets;
using System.Numerics;
using System.Runtime.CompilerServices;
using Conclave.Protocol.Spread;

namespace Conclave.Client;

public sealed partial class GroupConnection
{
    // Frames up to this size are copied into the batch and sent with whatever else is queued; larger
    // ones go out straight from the caller's memory after the header.
    private const int CoalesceLimit = 16 * 1024;

    // Bytes of queued small frames; a sender waits when they do not fit.
    private const int BatchSize = 64 * 1024;

    private readonly object _batchLock = new();
    private byte[] _batch = new byte[BatchSize];
    private byte[] _sending = new byte[BatchSize];
    private int _batchLength;
    private bool _writing;
    private TaskCompletionSource? _batchRoom;

    // The daemon kills a session whose data_len + 32·num_groups exceeds MAX_MESSAGE_BODY_LEN − 48
    // (spread-client-protocol.md §3.4); libspread checks only MAX_MESSAGE_BODY_LEN, we check the stricter bound.
    private const int MaxPayload = SpreadLimits.MaxMessageBodyLength - MessageHeader.Size;

    private const ServiceType LegalSendBits = ServiceType.RegularMask | ServiceType.SelfDiscard;

    /// <summary>Joins a group; the daemon answers with a membership message if the session asked for them.</summary>
    /// <param name="group">The group: 1..31 bytes, each in '$'..'~'.</param>
    /// <param name="cancellationToken">Cancels waiting to send.</param>
    /// <returns>A task that completes when the request is written.</returns>
    /// <exception cref="SpreadException"><see cref="SpreadError.IllegalGroup"/> for an illegal name, <see cref="SpreadError.ConnectionClosed"/> if the session is gone.</exception>
    public ValueTask JoinAsync(string group, CancellationToken cancellationToken = default)
    {
        CheckGroupName(group);
        return SendFrameAsync(ServiceType.JoinRequest, group, null, 0, ReadOnlyMemory<byte>.Empty, cancellationToken);
    }

    /// <summary>Leaves a group; the session then receives a <see cref="SelfLeaveMessage"/>.</summary>
    /// <param name="group">The group: 1..31 bytes, each in '$'..'~'.</param>
    /// <param name="cancellationToken">Cancels waiting to send.</param>
    /// <returns>A task that completes when the request is written.</returns>
    /// <exception cref="SpreadException"><see cref="SpreadError.IllegalGroup"/> for an illegal name, <see cref="SpreadError.ConnectionClosed"/> if the session is gone.</exception>
    public ValueTask LeaveAsync(string group, CancellationToken cancellationToken = default)
    {
        CheckGroupName(group);
        return SendFrameAsync(ServiceType.LeaveRequest, group, null, 0, ReadOnlyMemory<byte>.Empty, cancellationToken);
    }

    /// <summary>Multicasts a message to one group, or unicasts it to a private group (<c>#name#daemon</c>).</summary>
    /// <param name="service">
    /// Exactly one of <see cref="ServiceType.Unreliable"/>, <see cref="ServiceType.Reliable"/>, <see cref="ServiceType.Fifo"/>,
    /// <see cref="ServiceType.Causal"/>, <see cref="ServiceType.Agreed"/>, <see cref="ServiceType.Safe"/>, optionally with
    /// <see cref="ServiceType.SelfDiscard"/> so the sender does not receive its own copy.
    /// </param>
    /// <param name="group">The destination; names longer than 31 bytes are truncated, as libspread does. Sessions need not be members to send.</param>
    /// <param name="messageType">The application's 16-bit message type, delivered with the message.</param>
    /// <param name="body">The body; it is not copied for large messages, so keep it unchanged until the task completes.</param>
    /// <param name="cancellationToken">Cancels waiting; a cancellation once the frame is half written closes the session.</param>
    /// <returns>
    /// A task that completes when the frame is written to the socket, or queued behind a write in
    /// progress in the connection's bounded 64 KiB batch; it waits while the daemon is not reading.
    /// </returns>
    /// <exception cref="SpreadException">
    /// <see cref="SpreadError.IllegalService"/>, <see cref="SpreadError.MessageTooLong"/>, or <see cref="SpreadError.ConnectionClosed"/>.
    /// </exception>
    public ValueTask MulticastAsync(ServiceType service, string group, short messageType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        CheckSend(service, 1, body.Length);
        return SendFrameAsync(service, group, null, messageType, body, cancellationToken);
    }

    /// <summary>Multicasts one message to several groups and private groups at once; every receiver gets one copy and sees the whole list.</summary>
    /// <param name="service">One data service, optionally with <see cref="ServiceType.SelfDiscard"/>, as for the single-group overload.</param>
    /// <param name="groups">1..100 destinations: groups and private groups, mixed as needed.</param>
    /// <param name="messageType">The application's 16-bit message type.</param>
    /// <param name="body">The body; keep it unchanged until the task completes.</param>
    /// <param name="cancellationToken">Cancels waiting; a cancellation once the frame is half written closes the session.</param>
    /// <returns>A task that completes when the frame is written to the socket or queued in the bounded batch.</returns>
    /// <exception cref="SpreadException">
    /// <see cref="SpreadError.IllegalService"/>, <see cref="SpreadError.IllegalGroup"/> for 0 or more than 100 destinations,
    /// <see cref="SpreadError.MessageTooLong"/>, or <see cref="SpreadError.ConnectionClosed"/>.
    /// </exception>
    public ValueTask MulticastAsync(ServiceType service, IReadOnlyList<string> groups, short messageType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Count is 0 or > SpreadLimits.MaxGroupsPerMessage)
        {
            throw new SpreadException(SpreadError.IllegalGroup, $"A message needs 1..{SpreadLimits.MaxGroupsPerMessage} destination groups, not {groups.Count}.");
        }

        CheckSend(service, groups.Count, body.Length);
        return SendFrameAsync(service, null, groups, messageType, body, cancellationToken);
    }

    private static void CheckGroupName(string group)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (!NameField.IsLegalGroupName(group))
        {
            throw new SpreadException(SpreadError.IllegalGroup, $"'{group}' is not a legal group name: 1..31 bytes, each in '$'..'~'.");
        }
    }

    private static void CheckSend(ServiceType service, int groupCount, int bodyLength)
    {
        if ((service & ~LegalSendBits) != 0 || BitOperations.PopCount((uint)(service & ServiceType.RegularMask)) != 1)
        {
            throw new SpreadException(SpreadError.IllegalService, $"{service} is not one data service, optionally with SELF_DISCARD.");
        }

        if (bodyLength + ((long)SpreadLimits.GroupNameSize * groupCount) > MaxPayload)
        {
            throw new SpreadException(SpreadError.MessageTooLong);
        }
    }

    /*
     * Client request frame (spread-client-protocol.md §3.4):
     *   type (4) = service | 0x80000080 | private_group_name (32) = own "#name#daemon"
     *   | num_groups (4) | hint (4) = (mess_type << 8) & 0x00FFFF00 | 0x80000080 | data_len (4)
     *   | num_groups × 32-byte NUL-padded names | body
     *
     * Small frames are written straight into the batch buffer. Whoever finds no write in progress
     * becomes the writer and sends the batch; frames added while a write is in progress ride along
     * with the next one (one syscall for many frames when the socket is the bottleneck). If the
     * socket cannot take the bytes at once, the writer finishes in the background and the caller
     * returns: its frame is queued in the bounded batch, and once that is full senders wait.
     */
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendFrameAsync(ServiceType type, string? singleGroup, IReadOnlyList<string>? groups, short messageType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        int groupCount = groups?.Count ?? 1;
        int headLength = MessageHeader.Size + (SpreadLimits.GroupNameSize * groupCount);
        bool small = headLength + body.Length <= CoalesceLimit;
        while (true)
        {
            Task room;
            lock (_batchLock)
            {
                if (IsClosed)
                {
                    throw new SpreadException(SpreadError.ConnectionClosed, "The session is closed.");
                }

                if (small && _batchLength + headLength + body.Length <= _batch.Length)
                {
                    Span<byte> frame = _batch.AsSpan(_batchLength, headLength + body.Length);
                    WriteHead(frame, type, singleGroup, groups, messageType, body.Length);
                    body.Span.CopyTo(frame[headLength..]);
                    _batchLength += frame.Length;
                    if (_writing)
                    {
                        return; // the writer in progress sends it next
                    }

                    _writing = true;
                    break;
                }

                if (!small && !_writing)
                {
                    _writing = true; // with no writer the batch is empty: the socket is ours
                    break;
                }

                room = (_batchRoom ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            await room.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!small)
        {
            await SendLargeAsync(type, singleGroup, groups, messageType, body, headLength, cancellationToken).ConfigureAwait(false);
        }

        await WriteQueuedAsync().ConfigureAwait(false);
    }

    /// <summary>What <see cref="TryQueueFrame"/> did.</summary>
    internal enum QueuedFrame
    {
        /// <summary>Nothing: the frame is too large for the batch or the batch has no room; send it the ordinary way.</summary>
        NotQueued,

        /// <summary>The body writer refused: nothing was queued.</summary>
        Refused,

        /// <summary>Queued behind a write in progress, which sends it.</summary>
        Queued,

        /// <summary>Queued, and the caller became the writer: it must call <see cref="WriteQueuedAsync"/>.</summary>
        QueuedWriter,
    }

    /// <summary>
    /// Queues a small frame into the batch, its body written in place by <paramref name="write"/>, without touching the
    /// socket. The frame's place in the stream is fixed once this returns, so a caller that orders its sends under a
    /// lock of its own (the Flush layer's gate) can release that lock before the system call: on
    /// <see cref="QueuedFrame.QueuedWriter"/> it then calls <see cref="WriteQueuedAsync"/>.
    /// </summary>
    internal QueuedFrame TryQueueFrame<TState>(ServiceType type, string? singleGroup, IReadOnlyList<string>? groups, short messageType, int bodyLength, Flush.Internal.BodyWriter<TState> write, TState state)
    {
        int headLength = MessageHeader.Size + (SpreadLimits.GroupNameSize * (groups?.Count ?? 1));
        if (headLength + bodyLength > CoalesceLimit)
        {
            return QueuedFrame.NotQueued;
        }

        lock (_batchLock)
        {
            if (IsClosed)
            {
                throw new SpreadException(SpreadError.ConnectionClosed, "The session is closed.");
            }

            if (_batchLength + headLength + bodyLength > _batch.Length)
            {
                return QueuedFrame.NotQueued;
            }

            Span<byte> frame = _batch.AsSpan(_batchLength, headLength + bodyLength);
            if (!write(state, frame[headLength..]))
            {
                return QueuedFrame.Refused;
            }

            WriteHead(frame, type, singleGroup, groups, messageType, bodyLength);
            _batchLength += frame.Length;
            if (_writing)
            {
                return QueuedFrame.Queued;
            }

            _writing = true;
            return QueuedFrame.QueuedWriter;
        }
    }

    /// <summary>As the writer, sends the queued batches; what the socket does not take at once finishes in the background.</summary>
    internal ValueTask WriteQueuedAsync()
    {
        ValueTask drain = DrainAsync();
        if (drain.IsCompleted)
        {
            return drain; // surfaces a failure of this caller's own write
        }

        // Finishes in the background; a failure closes the session, which later calls report.
        _ = drain.AsTask().ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return ValueTask.CompletedTask;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendLargeAsync(ServiceType type, string? singleGroup, IReadOnlyList<string>? groups, short messageType, ReadOnlyMemory<byte> body, int headLength, CancellationToken cancellationToken)
    {
        // The head goes out from its own buffer, the body from the caller's memory without a copy;
        // frames queued meanwhile wait in the batch until both are written.
        byte[] head = ArrayPool<byte>.Shared.Rent(headLength);
        try
        {
            WriteHead(head.AsSpan(0, headLength), type, singleGroup, groups, messageType, body.Length);
            await SendAllAsync(head.AsMemory(0, headLength), cancellationToken).ConfigureAwait(false);
            await SendAllAsync(body, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ReleaseWriter();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head);
        }
    }

    /// <summary>Sends batches until none is left, then gives up the writer role.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask DrainAsync()
    {
        while (true)
        {
            int length;
            lock (_batchLock)
            {
                if (_batchLength == 0)
                {
                    _writing = false;
                    SignalRoom();
                    return;
                }

                (_batch, _sending) = (_sending, _batch);
                length = _batchLength;
                _batchLength = 0;
                SignalRoom();
            }

            try
            {
                // Not cancellable: the frames belong to callers that have returned. Abort ends it.
                await SendAllAsync(_sending.AsMemory(0, length), CancellationToken.None).ConfigureAwait(false);
            }
            catch
            {
                ReleaseWriter();
                throw;
            }
        }
    }

    /// <summary>Waits until every queued frame has been handed to the socket.</summary>
    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task room;
            lock (_batchLock)
            {
                if (!_writing || IsClosed)
                {
                    return;
                }

                room = (_batchRoom ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            await room.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void ReleaseWriter()
    {
        lock (_batchLock)
        {
            _writing = false;
            _batchLength = 0;
            SignalRoom();
        }
    }

    private void SignalRoom()
    {
        _batchRoom?.TrySetResult();
        _batchRoom = null;
    }

    private void WriteHead(Span<byte> frame, ServiceType type, string? singleGroup, IReadOnlyList<string>? groups, short messageType, int bodyLength)
    {
        int groupCount = groups?.Count ?? 1;
        new MessageHeader(type, groupCount, MessageHeader.EncodeHint(messageType), bodyLength).Format(frame, _privateGroupField);
        if (groups is null)
        {
            NameField.Write(singleGroup!, frame.Slice(MessageHeader.Size, SpreadLimits.GroupNameSize));
            return;
        }

        for (int i = 0; i < groupCount; i++)
        {
            NameField.Write(groups[i], frame.Slice(MessageHeader.Size + (SpreadLimits.GroupNameSize * i), SpreadLimits.GroupNameSize));
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        try
        {
            while (!bytes.IsEmpty)
            {
                int n = await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                bytes = bytes[n..];
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Part of a frame may be on the wire: the stream cannot carry another one.
            Abort();
            if (e is OperationCanceledException)
            {
                throw;
            }

            throw new SpreadException(SpreadError.ConnectionClosed, $"The connection to the Spread daemon was lost while sending: {e.Message}", e);
        }
    }
}
