using System.Buffers.Binary;
using System.Text;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Client.Secure.Internal;

/*
 * Sealed data message (Flush mess_type SecureGroupCore.SealedType, sent AGREED so it follows, at every member,
 * the key agreement messages that established its key). Integers big-endian.
 *   version (1) = 2 | suite (1) | flags (1, bit 0 = signed) | view id (8) | run (4) | sequence (8)
 *   | application mess_type (2) | ciphertext | tag (16)
 * The plaintext is the body, followed by a 64-byte Ed25519 signature when signed.
 * Associated data = header | len | group name | len | sender's private group.
 * A signature covers "conclave secure sig v2" | associated data | body.
 */

/// <summary>Reads and writes the header of a sealed data message and builds what it authenticates.</summary>
internal static class SealedFormat
{
    public const byte Version = 2;
    public const int HeaderSize = 1 + 1 + 1 + 8 + 4 + 8 + 2;
    public const byte SignedFlag = 1;
    public const int SignatureSize = 64;

    private static readonly byte[] SignatureLabel = Encoding.ASCII.GetBytes("conclave secure sig v2");

    public static void WriteHeader(Span<byte> header, SecureAead suite, bool signed, Epoch epoch, long sequence, short messageType)
    {
        header[0] = Version;
        header[1] = (byte)suite;
        header[2] = signed ? SignedFlag : (byte)0;
        BinaryPrimitives.WriteUInt64BigEndian(header[3..], epoch.ViewId);
        BinaryPrimitives.WriteUInt32BigEndian(header[11..], epoch.Run);
        BinaryPrimitives.WriteInt64BigEndian(header[15..], sequence);
        BinaryPrimitives.WriteInt16BigEndian(header[23..], messageType);
    }

    /// <summary>Parses a header; false for anything too short, of another version, or with unknown flags.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> wire, out Header header)
    {
        header = default;
        if (wire.Length < HeaderSize + EpochCipher.TagSize || wire[0] != Version || (wire[2] & ~SignedFlag) != 0)
        {
            return false;
        }

        header = new Header(
            (SecureAead)wire[1],
            (wire[2] & SignedFlag) != 0,
            new Epoch(BinaryPrimitives.ReadUInt64BigEndian(wire[3..]), BinaryPrimitives.ReadUInt32BigEndian(wire[11..])),
            BinaryPrimitives.ReadInt64BigEndian(wire[15..]),
            BinaryPrimitives.ReadInt16BigEndian(wire[23..]));
        return true;
    }

    /// <summary>The associated data of most messages fits a stack buffer of this size (names are at most 32 bytes in Spread).</summary>
    public const int StackAssociatedDataSize = 128;

    /// <summary>The length of the associated data for names of these encoded lengths.</summary>
    public static int AssociatedDataLength(int groupLength, int senderLength) => HeaderSize + 1 + groupLength + 1 + senderLength;

    /// <summary>Writes header | len | group | len | sender (Latin-1 names, as <see cref="AssociatedData"/>) without allocating.</summary>
    /// <returns>The bytes written.</returns>
    public static int WriteAssociatedData(Span<byte> destination, ReadOnlySpan<byte> header, ReadOnlySpan<byte> group, string sender)
    {
        header.CopyTo(destination);
        int at = header.Length;
        destination[at++] = (byte)group.Length;
        group.CopyTo(destination[at..]);
        at += group.Length;
        int senderLength = Encoding.Latin1.GetBytes(sender, destination[(at + 1)..]);
        destination[at++] = (byte)senderLength;
        return at + senderLength;
    }

    public static byte[] AssociatedData(ReadOnlySpan<byte> header, string group, string sender)
    {
        byte[] g = Encoding.Latin1.GetBytes(group);
        byte[] who = Encoding.Latin1.GetBytes(sender);
        var ad = new byte[header.Length + 1 + g.Length + 1 + who.Length];
        header.CopyTo(ad);
        ad[header.Length] = (byte)g.Length;
        g.CopyTo(ad.AsSpan(header.Length + 1));
        ad[header.Length + 1 + g.Length] = (byte)who.Length;
        who.CopyTo(ad.AsSpan(header.Length + 2 + g.Length));
        return ad;
    }

    public static byte[] SignedContent(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> body)
    {
        var content = new byte[SignatureLabel.Length + associatedData.Length + body.Length];
        SignatureLabel.CopyTo(content, 0);
        associatedData.CopyTo(content.AsSpan(SignatureLabel.Length));
        body.CopyTo(content.AsSpan(SignatureLabel.Length + associatedData.Length));
        return content;
    }

    internal readonly record struct Header(SecureAead Suite, bool Signed, Epoch Epoch, long Sequence, short MessageType);
}
