namespace Conclave.Protocol.Spread;

/// <summary>
/// Builds whole frames: header ‖ num_groups × 32-byte names ‖ body (spread-client-protocol.md §3.1),
/// little-endian with the endian marker.
/// </summary>
public static class FrameWriter
{
    /// <summary>Bytes of a frame with the given group count and body length.</summary>
    public static int FrameSize(int groupCount, int bodyLength) =>
        MessageHeader.Size + (groupCount * SpreadLimits.GroupNameSize) + bodyLength;

    /// <summary>Writes a frame into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Write(
        Span<byte> destination, ServiceType type, string privateName, IReadOnlyList<string> groups, uint rawHint, ReadOnlySpan<byte> body)
    {
        new MessageHeader(type, groups.Count, rawHint, body.Length).Format(destination, privateName);
        int at = MessageHeader.Size;
        foreach (string group in groups)
        {
            NameField.Write(group, destination.Slice(at, SpreadLimits.GroupNameSize));
            at += SpreadLimits.GroupNameSize;
        }

        body.CopyTo(destination[at..]);
        return at + body.Length;
    }

    /// <summary>Allocates and writes a frame.</summary>
    public static byte[] Build(ServiceType type, string privateName, IReadOnlyList<string> groups, uint rawHint, ReadOnlySpan<byte> body)
    {
        var frame = new byte[FrameSize(groups.Count, body.Length)];
        Write(frame, type, privateName, groups, rawHint, body);
        return frame;
    }

    /// <summary>
    /// Builds a reject message (§3.7): the header with <c>REJECT_MESS</c>, 4 extra bytes holding the
    /// original type word, then the original names and body. <c>data_len</c> does not count the 4 bytes.
    /// </summary>
    public static byte[] BuildReject(ServiceType rejectType, ServiceType originalType, string sender, IReadOnlyList<string> groups, uint rawHint, ReadOnlySpan<byte> body)
    {
        var frame = new byte[FrameSize(groups.Count, body.Length) + 4];
        new MessageHeader(rejectType, groups.Count, rawHint, body.Length).Format(frame, sender);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(MessageHeader.Size), (uint)originalType | MessageHeader.EndianMarker);
        int at = MessageHeader.Size + 4;
        foreach (string group in groups)
        {
            NameField.Write(group, frame.AsSpan(at, SpreadLimits.GroupNameSize));
            at += SpreadLimits.GroupNameSize;
        }

        body.CopyTo(frame.AsSpan(at));
        return frame;
    }
}
