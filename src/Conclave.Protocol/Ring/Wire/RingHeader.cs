using System.Buffers.Binary;
using System.Numerics;

namespace Conclave.Protocol.Ring.Wire;

/// <summary>Ring message types (ring-protocol.md §1.3).</summary>
public enum RingMessageType : byte
{
    /// <summary>Regular data message.</summary>
    Mcast = 1,
    /// <summary>Regular (ORF) token.</summary>
    Token = 2,
    /// <summary>Membership Join.</summary>
    Join = 3,
    /// <summary>Commit token.</summary>
    CommitToken = 4,
    /// <summary>Merge detection from an idle representative.</summary>
    MergeDetect = 5,
    /// <summary>Asks the representative to release an idle token it is holding.</summary>
    TokenHoldCancel = 6,
}

/// <summary>Header flags.</summary>
[Flags]
public enum RingHeaderFlags : byte
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary>Mcast only: the payload is an old-ring Mcast being recovered (§3.4).</summary>
    Encapsulated = 0b0000_0001,
}

/// <summary>
/// The common header of every ring packet (docs/ring-wire.md §2), big-endian:
/// <code>
/// 0      2       3     4          8      9        12         16
/// | magic | ver  | type | sender   | flags | 3 zero | checksum |
/// </code>
/// The checksum is CRC-32C over the whole packet with the checksum field read as zero.
/// </summary>
public readonly struct RingHeader(RingMessageType type, uint sender, RingHeaderFlags flags)
{
    /// <summary>Header size in bytes.</summary>
    public const int Size = 16;
    /// <summary>Magic number ("Cv").</summary>
    public const ushort Magic = 0x4376;
    /// <summary>Wire version this code speaks.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>The message type.</summary>
    public RingMessageType Type { get; } = type;
    /// <summary>Node that physically sent this copy.</summary>
    public uint Sender { get; } = sender;
    /// <summary>Flags.</summary>
    public RingHeaderFlags Flags { get; } = flags;

    /// <summary>Writes the header with a zero checksum; <see cref="Seal"/> fills it in.</summary>
    public void Format(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, Magic);
        destination[2] = CurrentVersion;
        destination[3] = (byte)Type;
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], Sender);
        destination[8] = (byte)Flags;
        destination.Slice(9, 7).Clear();
    }

    /// <summary>Computes and stores the checksum of a complete packet.</summary>
    public static void Seal(Span<byte> packet) =>
        BinaryPrimitives.WriteUInt32BigEndian(packet[12..], Checksum(packet));

    /// <summary>Parses and validates the header (magic, version, type, checksum).</summary>
    public static RingParseError TryParse(ReadOnlySpan<byte> packet, out RingHeader header)
    {
        header = default;
        if (packet.Length < Size) return RingParseError.Truncated;
        if (BinaryPrimitives.ReadUInt16BigEndian(packet) != Magic) return RingParseError.BadMagic;
        if (packet[2] != CurrentVersion) return RingParseError.BadVersion;
        byte type = packet[3];
        if (type is < (byte)RingMessageType.Mcast or > (byte)RingMessageType.TokenHoldCancel) return RingParseError.BadType;
        if (BinaryPrimitives.ReadUInt32BigEndian(packet[12..]) != Checksum(packet)) return RingParseError.BadChecksum;
        uint sender = BinaryPrimitives.ReadUInt32BigEndian(packet[4..]);
        if (sender == 0) return RingParseError.BadField;
        header = new RingHeader((RingMessageType)type, sender, (RingHeaderFlags)packet[8]);
        return RingParseError.None;
    }

    private static uint Checksum(ReadOnlySpan<byte> packet)
    {
        uint crc = 0xFFFF_FFFF;
        for (int i = 0; i < 12; i++) crc = BitOperations.Crc32C(crc, packet[i]);
        crc = BitOperations.Crc32C(crc, 0u);
        int pos = 16;
        for (; pos + 8 <= packet.Length; pos += 8) crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(packet[pos..]));
        for (; pos < packet.Length; pos++) crc = BitOperations.Crc32C(crc, packet[pos]);
        return ~crc;
    }
}
