using System.Buffers.Binary;
using System.Text;

namespace Conclave.Client.Secure.Internal;

/*
 * A key agreement unicast travels AGREED to its addressee's private group (Spread delivers it in the same total
 * order as group messages), so the other n - 2 members never receive, parse or verify it. Nothing on the
 * private group says which secure group it is for, hence a small prefix:
 *   u16 length (big-endian) | UTF-8 group name | the module's wire message
 */

/// <summary>Wraps and unwraps the group prefix of key agreement unicasts sent to a private group.</summary>
internal static class PrivateKeyAgreement
{
    /// <summary>The Flush message type of a key agreement unicast on a private group.</summary>
    public const short MessageType = -32698;

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    public static byte[] Wrap(string group, ReadOnlySpan<byte> wire)
    {
        int nameLength = Encoding.UTF8.GetByteCount(group);
        var body = new byte[2 + nameLength + wire.Length];
        BinaryPrimitives.WriteUInt16BigEndian(body, checked((ushort)nameLength));
        Encoding.UTF8.GetBytes(group, body.AsSpan(2, nameLength));
        wire.CopyTo(body.AsSpan(2 + nameLength));
        return body;
    }

    /// <summary>Splits a body into its group name and the module's message; false for anything truncated or not UTF-8.</summary>
    public static bool TryUnwrap(ReadOnlyMemory<byte> body, out string group, out ReadOnlyMemory<byte> wire)
    {
        group = string.Empty;
        wire = default;
        ReadOnlySpan<byte> span = body.Span;
        if (span.Length < 2)
        {
            return false;
        }

        int nameLength = BinaryPrimitives.ReadUInt16BigEndian(span);
        if (nameLength == 0 || span.Length - 2 < nameLength)
        {
            return false;
        }

        try
        {
            group = StrictUtf8.GetString(span.Slice(2, nameLength));
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        wire = body[(2 + nameLength)..];
        return true;
    }
}
