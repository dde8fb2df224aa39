using System.Buffers.Binary;

namespace Conclave.Protocol.Spread;

/// <summary>
/// The 48-byte header that starts every framed message (spread-client-protocol.md §3.1–§3.2).
/// </summary>
/// <remarks>
/// <code>
///  off size field
///    0    4 type        service / control bits | endian marker 0x80000080 (little-endian writers)
///    4   32 private_group_name   sender's private group (client→daemon, data) or group name (membership)
///   36    4 num_groups  count of 32-byte names after the header
///   40    4 hint        (mess_type &lt;&lt; 8) &amp; 0x00FFFF00 | the ORIGINAL sender's endian marker
///   44    4 data_len    body bytes after the names
/// </code>
/// Integers travel in the writer's byte order. <see cref="Type"/>, <see cref="NumGroups"/> and
/// <see cref="DataLength"/> are normalised here; <see cref="RawHint"/> keeps the four hint bytes as
/// they came (read little-endian), because daemons forward the hint untouched.
/// </remarks>
public readonly struct MessageHeader
{
    /// <summary>Bytes in the header.</summary>
    public const int Size = SpreadLimits.HeaderSize;

    /// <summary>The endian marker bits, set by little-endian writers.</summary>
    public const uint EndianMarker = 0x8000_0080;

    /// <summary>Bits a hint may carry: the marker and the 16-bit message type.</summary>
    public const uint LegalHintBits = EndianMarker | 0x00FF_FF00;

    /// <summary>Creates a header from normalised fields.</summary>
    public MessageHeader(ServiceType type, int numGroups, uint rawHint, int dataLength, bool writerWasBigEndian = false)
    {
        Type = type;
        NumGroups = numGroups;
        RawHint = rawHint;
        DataLength = dataLength;
        WriterWasBigEndian = writerWasBigEndian;
    }

    /// <summary>The type word without the endian marker bits.</summary>
    public ServiceType Type { get; }

    /// <summary>How many 32-byte names follow the header.</summary>
    public int NumGroups { get; }

    /// <summary>The hint word's bytes as received, read little-endian.</summary>
    public uint RawHint { get; }

    /// <summary>Body bytes after the names.</summary>
    public int DataLength { get; }

    /// <summary>True when the type word had no endian marker (a big-endian writer).</summary>
    public bool WriterWasBigEndian { get; }

    /// <summary>Bytes that follow the header: the names, then the body.</summary>
    public long PayloadLength => (SpreadLimits.GroupNameSize * (long)NumGroups) + DataLength;

    /// <summary>The application's 16-bit message type, decoded from the hint in its writer's order.</summary>
    public short MessageType => DecodeMessageType(RawHint, out _);

    /// <summary>True when the hint was written by a host of the other byte order than little-endian.</summary>
    public bool HintEndianMismatch => (RawHint & EndianMarker) != EndianMarker;

    /// <summary>Builds a little-endian hint carrying a message type.</summary>
    public static uint EncodeHint(short messageType) => (((uint)(ushort)messageType << 8) & 0x00FF_FF00) | EndianMarker;

    /// <summary>Decodes the message type from raw hint bytes, swapping if the writer was big-endian.</summary>
    public static short DecodeMessageType(uint rawHint, out bool endianMismatch)
    {
        endianMismatch = (rawHint & EndianMarker) != EndianMarker;
        uint hint = endianMismatch ? BinaryPrimitives.ReverseEndianness(rawHint) : rawHint;
        hint &= ~EndianMarker;
        return unchecked((short)(ushort)((hint >> 8) & 0xFFFF));
    }

    /// <summary>Parses a header from the first 48 bytes of <paramref name="source"/>.</summary>
    public static MessageHeader Parse(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
        {
            ThrowTooShort(source.Length);
        }

        uint type = BinaryPrimitives.ReadUInt32LittleEndian(source);
        bool bigEndian = (type & EndianMarker) != EndianMarker;
        int numGroups = BinaryPrimitives.ReadInt32LittleEndian(source[36..]);
        uint hint = BinaryPrimitives.ReadUInt32LittleEndian(source[40..]);
        int dataLength = BinaryPrimitives.ReadInt32LittleEndian(source[44..]);
        if (bigEndian)
        {
            type = BinaryPrimitives.ReverseEndianness(type);
            numGroups = BinaryPrimitives.ReverseEndianness(numGroups);
            dataLength = BinaryPrimitives.ReverseEndianness(dataLength);
        }

        return new MessageHeader((ServiceType)(type & ~EndianMarker), numGroups, hint, dataLength, bigEndian);
    }

    /// <summary>The 32-byte private-group-name field of a header.</summary>
    public static ReadOnlySpan<byte> PrivateNameField(ReadOnlySpan<byte> header) => header.Slice(4, SpreadLimits.GroupNameSize);

    /// <summary>Writes this header little-endian (marker set in the type word), with the given name field.</summary>
    public void Format(Span<byte> destination, ReadOnlySpan<byte> privateNameField)
    {
        FormatCore(destination);
        Span<byte> field = destination.Slice(4, SpreadLimits.GroupNameSize);
        field.Clear();
        NameField.Trim(privateNameField).CopyTo(field);
    }

    /// <summary>Writes this header little-endian (marker set in the type word), with the given name.</summary>
    public void Format(Span<byte> destination, string privateName)
    {
        FormatCore(destination);
        NameField.Write(privateName, destination.Slice(4, SpreadLimits.GroupNameSize));
    }

    /// <summary>Re-stamps the type word of an already formatted header, little-endian with the marker.</summary>
    public static void StampType(Span<byte> header, ServiceType type) =>
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)type | EndianMarker);

    private void FormatCore(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            ThrowTooShort(destination.Length);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)Type | EndianMarker);
        BinaryPrimitives.WriteInt32LittleEndian(destination[36..], NumGroups);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[40..], RawHint);
        BinaryPrimitives.WriteInt32LittleEndian(destination[44..], DataLength);
    }

    private static void ThrowTooShort(int length) =>
        throw new ArgumentException($"A Spread header needs {Size} bytes, got {length}.");
}
