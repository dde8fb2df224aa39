using System.Buffers;
using System.Net.Sockets;
using System.Numerics;
using System.Runtime.CompilerServices;
using Conclave.Protocol.Spread;

namespace Conclave.Client;

public sealed partial class GroupConnection
{
    // Bodies up to this size are copied behind the header and sent in one write (one syscall, one
    // TCP segment); larger ones go out straight from the caller's memory after the header.
    private const int CoalesceLimit = 16 * 1024;

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
    /// <returns>A task that completes when the whole frame is written to the socket (it waits while the daemon is not reading).</returns>
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
    /// <returns>A task that completes when the whole frame is written to the socket.</returns>
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
     */
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendFrameAsync(ServiceType type, string? singleGroup, IReadOnlyList<string>? groups, short messageType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        if (IsClosed)
        {
            throw new SpreadException(SpreadError.ConnectionClosed, "The session is closed.");
        }

        int groupCount = groups?.Count ?? 1;
        int headLength = MessageHeader.Size + (SpreadLimits.GroupNameSize * groupCount);
        bool coalesce = body.Length <= CoalesceLimit;
        int writeLength = headLength + (coalesce ? body.Length : 0);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(writeLength);
        try
        {
            Span<byte> frame = buffer.AsSpan(0, writeLength);
            new MessageHeader(type, groupCount, MessageHeader.EncodeHint(messageType), body.Length).Format(frame, _privateGroupField);
            if (groups is null)
            {
                NameField.Write(singleGroup!, frame.Slice(MessageHeader.Size, SpreadLimits.GroupNameSize));
            }
            else
            {
                for (int i = 0; i < groupCount; i++)
                {
                    NameField.Write(groups[i], frame.Slice(MessageHeader.Size + (SpreadLimits.GroupNameSize * i), SpreadLimits.GroupNameSize));
                }
            }

            if (coalesce)
            {
                body.Span.CopyTo(frame[headLength..]);
            }

            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await SendAllAsync(buffer.AsMemory(0, writeLength), cancellationToken).ConfigureAwait(false);
                if (!coalesce)
                {
                    await SendAllAsync(body, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                _sendLock.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

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
