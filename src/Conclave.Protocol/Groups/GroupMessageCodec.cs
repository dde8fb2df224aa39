using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Conclave.Protocol.Spread;

namespace Conclave.Protocol.Groups;

/// <summary>
/// Encodes a <see cref="GroupMessage"/> as the payload of a ring message, and back (docs/ring-payload.md).
/// </summary>
/// <remarks>
/// <code>
///  off size field
///    0    1 format version (1)
///    1    1 kind: 1 Data, 2 Join, 3 Leave, 4 Kill, 5 Groups
///    2    4 service type word (Data), else 0
///    6    … sender: u8 length + bytes
///  Data:   the client frame as delivered (header ‖ names ‖ body), to the end of the payload
///  Join, Leave: group name, u8 length + bytes
///  Kill:   nothing
///  Groups: reg id (2 × i32), synced set (u16 count + names), groups (u32 count; each: name, memb id,
///          index i32, changed u8, daemons u16 count; each: name, has-memb-id u8, memb id, members u32
///          count + names)
/// </code>
/// Integers are little-endian; names are at most 255 bytes. Decoding checks every length and returns
/// false for anything malformed: a ring payload never throws out of the group layer.
/// </remarks>
public static class GroupMessageCodec
{
    private const byte FormatVersion = 1;

    /// <summary>Encodes a message.</summary>
    public static byte[] Encode(GroupMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Kind == GroupMessageKind.Data)
        {
            return EncodeData(message);
        }

        var writer = new Writer(message.Kind == GroupMessageKind.Data ? message.Frame.Length + 64 : 256);
        writer.Byte(FormatVersion);
        writer.Byte((byte)message.Kind);
        writer.UInt((uint)message.Service);
        writer.Name(message.Sender);
        switch (message.Kind)
        {
            case GroupMessageKind.Data:
                writer.Bytes(message.Frame.Span);
                break;
            case GroupMessageKind.Join or GroupMessageKind.Leave:
                writer.Name(message.Groups[0]);
                break;
            case GroupMessageKind.Groups:
                WriteState(writer, message.State!);
                break;
        }

        return writer.ToArray();
    }

    // The per-message path: one exact-size buffer and one copy of the client's frame.
    private static byte[] EncodeData(GroupMessage message)
    {
        string sender = message.Sender;
        int senderLength = Encoding.Latin1.GetByteCount(sender);
        ReadOnlySpan<byte> frame = message.Frame.Span;
        byte[] payload = GC.AllocateUninitializedArray<byte>(7 + senderLength + frame.Length); // every byte is written below
        payload[0] = FormatVersion;
        payload[1] = (byte)GroupMessageKind.Data;
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(2), (uint)message.Service);
        payload[6] = checked((byte)senderLength);
        Encoding.Latin1.GetBytes(sender, payload.AsSpan(7, senderLength));
        frame.CopyTo(payload.AsSpan(7 + senderLength));
        return payload;
    }

    /// <summary>Decodes a payload; false if it is malformed.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> payload, out GroupMessage? message)
    {
        message = null;
        var reader = new Reader(payload);
        if (!reader.Byte(out byte version) || version != FormatVersion || !reader.Byte(out byte kind) ||
            !reader.UInt(out uint service) || !reader.Name(out string sender))
        {
            return false;
        }

        switch ((GroupMessageKind)kind)
        {
            case GroupMessageKind.Data:
                return TryDecodeData(sender, (ServiceType)service, reader.Rest(), out message);
            case GroupMessageKind.Join when reader.Name(out string group) && reader.AtEnd:
                message = GroupMessage.Join(sender, group);
                return true;
            case GroupMessageKind.Leave when reader.Name(out string group) && reader.AtEnd:
                message = GroupMessage.Leave(sender, group);
                return true;
            case GroupMessageKind.Kill when reader.AtEnd:
                message = GroupMessage.Kill(sender);
                return true;
            case GroupMessageKind.Groups when TryReadState(ref reader, out GroupsStateMessage? state) && reader.AtEnd:
                message = GroupMessage.GroupsState(sender, state!);
                return true;
            default:
                return false;
        }
    }

    private static bool TryDecodeData(string sender, ServiceType service, ReadOnlyMemory<byte> frame, out GroupMessage? message)
    {
        message = null;
        if (frame.Length < MessageHeader.Size)
        {
            return false;
        }

        MessageHeader header = MessageHeader.Parse(frame.Span);
        if (header.WriterWasBigEndian || header.NumGroups is < 0 or > SpreadLimits.MaxGroupsPerMessage ||
            header.DataLength < 0 || MessageHeader.Size + header.PayloadLength != frame.Length)
        {
            return false;
        }

        var groups = new string[header.NumGroups];
        for (int i = 0; i < groups.Length; i++)
        {
            groups[i] = NameField.Read(frame.Span.Slice(MessageHeader.Size + (i * SpreadLimits.GroupNameSize), SpreadLimits.GroupNameSize));
        }

        message = GroupMessage.Data(sender, groups, service, frame);
        return true;
    }

    private static void WriteState(Writer writer, GroupsStateMessage state)
    {
        writer.MembId(state.RegId);
        writer.UShort(state.SyncedSet.Count);
        foreach (string daemon in state.SyncedSet)
        {
            writer.Name(daemon);
        }

        writer.UInt((uint)state.Groups.Count);
        foreach (GroupState group in state.Groups)
        {
            writer.Name(group.Name);
            writer.MembId(group.MembId);
            writer.UInt((uint)group.Index);
            writer.Byte(group.Changed ? (byte)1 : (byte)0);
            writer.UShort(group.Daemons.Count);
            foreach (DaemonState daemon in group.Daemons)
            {
                writer.Name(daemon.Daemon);
                writer.Byte(daemon.MembId is null ? (byte)0 : (byte)1);
                writer.MembId(daemon.MembId ?? default);
                writer.UInt((uint)daemon.Members.Count);
                foreach (string member in daemon.Members)
                {
                    writer.Name(member);
                }
            }
        }
    }

    private static bool TryReadState(ref Reader reader, out GroupsStateMessage? state)
    {
        state = null;
        if (!reader.MembId(out MembershipId regId) || !reader.UShort(out int syncedCount))
        {
            return false;
        }

        var synced = new List<string>(syncedCount);
        for (int i = 0; i < syncedCount; i++)
        {
            if (!reader.Name(out string daemon))
            {
                return false;
            }

            synced.Add(daemon);
        }

        if (!reader.UInt(out uint groupCount) || groupCount > reader.Remaining)
        {
            return false;
        }

        var groups = new List<GroupState>((int)groupCount);
        for (uint g = 0; g < groupCount; g++)
        {
            if (!reader.Name(out string name) || !reader.MembId(out MembershipId membId) || !reader.UInt(out uint index) ||
                !reader.Byte(out byte changed) || !reader.UShort(out int daemonCount))
            {
                return false;
            }

            var daemons = new List<DaemonState>(daemonCount);
            for (int d = 0; d < daemonCount; d++)
            {
                if (!reader.Name(out string daemon) || !reader.Byte(out byte hasMembId) || !reader.MembId(out MembershipId daemonMembId) ||
                    !reader.UInt(out uint memberCount) || memberCount > reader.Remaining)
                {
                    return false;
                }

                var members = new List<string>((int)memberCount);
                for (uint m = 0; m < memberCount; m++)
                {
                    if (!reader.Name(out string member))
                    {
                        return false;
                    }

                    members.Add(member);
                }

                daemons.Add(new DaemonState(daemon, hasMembId == 0 ? null : daemonMembId, members));
            }

            groups.Add(new GroupState(name, membId, (int)index, changed != 0, daemons));
        }

        state = new GroupsStateMessage(regId, synced, groups);
        return true;
    }

    private sealed class Writer(int capacity)
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(capacity);

        public void Byte(byte value) => _buffer.Write([value]);

        public void UShort(int value)
        {
            Span<byte> bytes = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(bytes, checked((ushort)value));
            _buffer.Write(bytes);
        }

        public void UInt(uint value)
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
            _buffer.Write(bytes);
        }

        public void MembId(MembershipId id)
        {
            UInt((uint)id.ProcId);
            UInt((uint)id.Time);
        }

        public void Name(string name)
        {
            byte[] bytes = Encoding.Latin1.GetBytes(name);
            Byte(checked((byte)bytes.Length));
            _buffer.Write(bytes);
        }

        public void Bytes(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

        public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
    }

    private struct Reader(ReadOnlyMemory<byte> payload)
    {
        private int _at;

        public readonly bool AtEnd => _at == payload.Length;

        public readonly int Remaining => payload.Length - _at;

        public bool Byte(out byte value)
        {
            value = 0;
            if (Remaining < 1)
            {
                return false;
            }

            value = payload.Span[_at++];
            return true;
        }

        public bool UShort(out int value)
        {
            value = 0;
            if (Remaining < 2)
            {
                return false;
            }

            value = BinaryPrimitives.ReadUInt16LittleEndian(payload.Span[_at..]);
            _at += 2;
            return true;
        }

        public bool UInt(out uint value)
        {
            value = 0;
            if (Remaining < 4)
            {
                return false;
            }

            value = BinaryPrimitives.ReadUInt32LittleEndian(payload.Span[_at..]);
            _at += 4;
            return true;
        }

        public bool MembId(out MembershipId id)
        {
            id = default;
            if (!UInt(out uint proc) || !UInt(out uint time))
            {
                return false;
            }

            id = new MembershipId((int)proc, (int)time);
            return true;
        }

        public bool Name(out string name)
        {
            name = string.Empty;
            if (!Byte(out byte length) || Remaining < length)
            {
                return false;
            }

            name = Encoding.Latin1.GetString(payload.Span.Slice(_at, length));
            _at += length;
            return true;
        }

        public ReadOnlyMemory<byte> Rest()
        {
            ReadOnlyMemory<byte> rest = payload[_at..];
            _at = payload.Length;
            return rest;
        }
    }
}
