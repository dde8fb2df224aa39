using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Conclave.Protocol.Groups;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Internal;

/// <summary>Reading client frames: validate the header, take the whole frame, hand it to the loop.</summary>
internal sealed partial class ClientSession
{
    private byte[] _privateNameBytes = [];

    private async Task ReadFramesAsync(CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            ReadResult result = await _input.ReadAtLeastAsync(MessageHeader.Size, token);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.Length < MessageHeader.Size)
            {
                return; // End of stream (a partial header at the end is dropped with the session).
            }

            MessageHeader header = ParseHeader(buffer, out string? error);
            if (error is not null)
            {
                _input.AdvanceTo(buffer.Start, buffer.End);
                Interlocked.Increment(ref _host.Counters.MalformedFrames);
                DaemonLog.MalformedFrame(_host.Logger, PrivateGroupName, error);
                return;
            }

            int frameLength = checked((int)(MessageHeader.Size + header.PayloadLength));
            if (buffer.Length < frameLength)
            {
                _input.AdvanceTo(buffer.Start, buffer.End);
                result = await _input.ReadAtLeastAsync(frameLength, token);
                buffer = result.Buffer;
                if (buffer.Length < frameLength)
                {
                    return; // The client closed in the middle of a frame.
                }
            }

            byte[] frame = GC.AllocateUninitializedArray<byte>(frameLength);
            buffer.Slice(0, frameLength).CopyTo(frame);
            _input.AdvanceTo(buffer.GetPosition(frameLength));

            Normalise(frame, header);
            GroupMessage? message = ToGroupMessage(frame, header);
            _host.Post(new LoopItem(this, message, header.Type, frame));
            if ((header.Type & ServiceType.KillRequest) != 0)
            {
                return; // The client disconnects; the loop orders the disconnect.
            }
        }
    }

    private MessageHeader ParseHeader(ReadOnlySequence<byte> buffer, out string? error)
    {
        Span<byte> bytes = stackalloc byte[MessageHeader.Size];
        buffer.Slice(0, MessageHeader.Size).CopyTo(bytes);
        MessageHeader header = MessageHeader.Parse(bytes);
        error = FrameValidator.Validate(header, MessageHeader.PrivateNameField(bytes), _privateNameBytes);
        return header;
    }

    /// <summary>Rewrites type, num_groups and data_len little-endian; the hint stays as the sender wrote it.</summary>
    private static void Normalise(byte[] frame, in MessageHeader header)
    {
        MessageHeader.StampType(frame, header.Type);
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(36), header.NumGroups);
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(44), header.DataLength);
    }

    private GroupMessage? ToGroupMessage(byte[] frame, in MessageHeader header)
    {
        var groups = new string[header.NumGroups];
        for (int i = 0; i < groups.Length; i++)
        {
            groups[i] = NameField.Read(frame.AsSpan(MessageHeader.Size + (i * SpreadLimits.GroupNameSize), SpreadLimits.GroupNameSize));
        }

        ServiceType type = header.Type;
        if ((type & ServiceType.JoinRequest) != 0)
        {
            return GroupMessage.Join(PrivateGroupName, groups[0]);
        }

        if ((type & ServiceType.LeaveRequest) != 0)
        {
            return GroupMessage.Leave(PrivateGroupName, groups[0]);
        }

        if ((type & ServiceType.KillRequest) != 0)
        {
            return GroupMessage.Kill(PrivateGroupName);
        }

        return GroupMessage.Data(PrivateGroupName, groups, type, frame);
    }
}
