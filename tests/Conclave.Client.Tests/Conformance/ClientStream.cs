using System.Buffers.Binary;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Conformance;

/// <summary>A request frame a recorded client sent.</summary>
internal sealed record SentFrame(ServiceType Type, string Sender, string[] Groups, short MessageType, byte[] Body);

/// <summary>
/// Parses a recorded client→daemon byte stream of a ≥ 3.16 library: connect request (5 + L), the
/// 90-byte auth choice, then frames.
/// </summary>
internal static class ClientStream
{
    public static int HandshakeLength(ReadOnlySpan<byte> stream) => 5 + stream[4] + SpreadLimits.AuthChoiceSize;

    public static List<SentFrame> Frames(byte[] stream)
    {
        var frames = new List<SentFrame>();
        int at = HandshakeLength(stream);
        while (at < stream.Length)
        {
            MessageHeader header = MessageHeader.Parse(stream.AsSpan(at));
            string[] groups = new string[header.NumGroups];
            for (int i = 0; i < groups.Length; i++)
            {
                groups[i] = NameField.Read(stream.AsSpan(at + MessageHeader.Size + (32 * i), 32));
            }

            int bodyAt = at + MessageHeader.Size + (32 * header.NumGroups);
            frames.Add(new SentFrame(header.Type, NameField.Read(stream.AsSpan(at + 4, 32)), groups, header.MessageType, stream[bodyAt..(bodyAt + header.DataLength)]));
            at = bodyAt + header.DataLength;
        }

        return frames;
    }

    /// <summary>
    /// Zeroes the bytes after the first NUL of every 32-byte name field of the frames: libspread leaves
    /// stack garbage there (e.g. in the KILL_MESS group field), which is not part of the protocol.
    /// </summary>
    public static byte[] NormaliseNameFields(byte[] stream)
    {
        byte[] copy = (byte[])stream.Clone();
        if (copy.Length < 5 || copy.Length < HandshakeLength(copy))
        {
            return copy;
        }

        int at = HandshakeLength(copy);
        while (copy.Length - at >= MessageHeader.Size)
        {
            MessageHeader header = MessageHeader.Parse(copy.AsSpan(at));
            ClearAfterNul(copy.AsSpan(at + 4, 32));
            int names = at + MessageHeader.Size;
            for (int i = 0; i < header.NumGroups && names + (32 * (i + 1)) <= copy.Length; i++)
            {
                ClearAfterNul(copy.AsSpan(names + (32 * i), 32));
            }

            at = names + (32 * header.NumGroups) + header.DataLength;
        }

        return copy;
    }

    private static void ClearAfterNul(Span<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        if (nul >= 0)
        {
            field[nul..].Clear();
        }
    }

    public static uint ReadUInt32(ReadOnlySpan<byte> bytes) => BinaryPrimitives.ReadUInt32LittleEndian(bytes);
}
