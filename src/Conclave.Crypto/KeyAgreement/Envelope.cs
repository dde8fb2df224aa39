using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using System.Text;

namespace Conclave.Crypto.KeyAgreement;

// Methods carry [MethodImpl(AggressiveOptimization)]: a membership event runs most of this code once or a few
// times, so under tiered JIT it would stay in the unoptimised first tier for a member's first ~30 events
// (measured at n = 1000: TGDH join 2.1-2.3 ms tiered, 1.9-2.0 ms optimised; docs/benchmarks.md).
/// <summary>A signed key agreement message.</summary>
/// <remarks>
/// Wire layout, version 1, integers big-endian (docs/key-agreement.md §Wire):
/// <code>
///  u8 version=1 | u8 protocol | u8 type | u64 view id | u32 run
///  u16 len + UTF-8 group | u16 len + UTF-8 sender | u16 len + UTF-8 recipient (0 = broadcast)
///  u32 len + payload | 64-byte Ed25519 signature over "conclave/ka/v1" ‖ SHA-256(every byte before it)
/// </code>
/// Signing the SHA-256 digest keeps large messages (a TGDH tree) to one hash pass; the same digest names the
/// message in the transcript and in replay detection.
/// </remarks>
internal sealed class Envelope
{
    public const byte Version = 1;
    private const int SignatureLength = 64;
    private const int MaxPayload = 16 << 20;
    private static readonly byte[] SignaturePrefix = "conclave/ka/v1"u8.ToArray();

    public required KeyAgreementProtocol Protocol { get; init; }

    public required byte Type { get; init; }

    public required ulong ViewId { get; init; }

    public required uint Run { get; init; }

    public required string Group { get; init; }

    public required string Sender { get; init; }

    /// <summary>The addressee of a unicast, or null for a broadcast.</summary>
    public required string? Recipient { get; init; }

    public required byte[] Payload { get; init; }

    public byte[] Signature { get; private set; } = [];

    /// <summary>SHA-256 of the signed bytes (everything but the signature), set by <see cref="Seal(MemberIdentity, OperationCounter)"/> or <see cref="TryParse"/>.</summary>
    public byte[] Digest { get; private set; } = [];

    /// <summary>Writes a payload of a known length straight into the wire buffer.</summary>
    public delegate void PayloadEncoder(Span<byte> destination);

    /// <summary>Encodes and signs; returns the full wire message.</summary>
    public byte[] Seal(MemberIdentity identity, OperationCounter counter) => Seal(identity, counter, Payload.Length, Payload.CopyTo);

    /// <summary>
    /// Encodes and signs with the payload written by <paramref name="encode"/> in place (a TGDH tree of a thousand
    /// members is not built in a buffer of its own and copied); <see cref="Payload"/> is not used.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public byte[] Seal(MemberIdentity identity, OperationCounter counter, int payloadLength, PayloadEncoder encode)
    {
        byte[] group = Encoding.UTF8.GetBytes(Group);
        byte[] sender = Encoding.UTF8.GetBytes(Sender);
        byte[] recipient = Encoding.UTF8.GetBytes(Recipient ?? string.Empty);
        if (group.Length > ushort.MaxValue || sender.Length > ushort.MaxValue || recipient.Length > ushort.MaxValue)
        {
            throw new ArgumentException("Name too long.");
        }

        int length = 15 + 2 + group.Length + 2 + sender.Length + 2 + recipient.Length + 4 + payloadLength;
        var wire = new byte[length + SignatureLength];
        Span<byte> span = wire;
        span[0] = Version;
        span[1] = (byte)Protocol;
        span[2] = Type;
        BinaryPrimitives.WriteUInt64BigEndian(span[3..], ViewId);
        BinaryPrimitives.WriteUInt32BigEndian(span[11..], Run);
        int at = 15;
        at = WriteString(span, at, group);
        at = WriteString(span, at, sender);
        at = WriteString(span, at, recipient);
        BinaryPrimitives.WriteInt32BigEndian(span[at..], payloadLength);
        at += 4;
        encode(span.Slice(at, payloadLength));
        Digest = System.Security.Cryptography.SHA256.HashData(wire.AsSpan(0, length));
        Signature = identity.Sign(SignedMessage(Digest));
        counter.Signatures++;
        Signature.CopyTo(span[length..]);
        return wire;
    }

    /// <summary>Parses a wire message; checks every length and that the whole buffer is consumed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParse(ReadOnlySpan<byte> wire, out Envelope envelope)
    {
        envelope = null!;
        if (wire.Length < 15 + 6 + 4 + SignatureLength || wire[0] != Version)
        {
            return false;
        }

        var protocol = (KeyAgreementProtocol)wire[1];
        if (!Enum.IsDefined(protocol))
        {
            return false;
        }

        int body = wire.Length - SignatureLength;
        int at = 15;
        if (!TryReadString(wire[..body], ref at, out string? group)
            || !TryReadString(wire[..body], ref at, out string? sender)
            || !TryReadString(wire[..body], ref at, out string? recipient)
            || at + 4 > body)
        {
            return false;
        }

        int payloadLength = BinaryPrimitives.ReadInt32BigEndian(wire[at..]);
        at += 4;
        if (payloadLength < 0 || payloadLength > MaxPayload || at + payloadLength != body || sender.Length == 0)
        {
            return false;
        }

        envelope = new Envelope
        {
            Protocol = protocol,
            Type = wire[2],
            ViewId = BinaryPrimitives.ReadUInt64BigEndian(wire[3..]),
            Run = BinaryPrimitives.ReadUInt32BigEndian(wire[11..]),
            Group = group,
            Sender = sender,
            Recipient = recipient.Length == 0 ? null : recipient,
            Payload = wire.Slice(at, payloadLength).ToArray(),
        };
        envelope.Digest = System.Security.Cryptography.SHA256.HashData(wire[..body]);
        envelope.Signature = wire[body..].ToArray();
        return true;
    }

    /// <summary>
    /// True if <paramref name="wire"/> is a unicast for another member, read from the header alone: a host that
    /// delivers every unicast to the whole group (the secure layer does) then costs the other members no hashing,
    /// copying or signature check of, say, a joiner's copy of a thousand-member tree.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool IsForAnother(ReadOnlySpan<byte> wire, string self)
    {
        int at = 15;
        if (wire.Length < 15 + 6 + 4 + SignatureLength || wire[0] != Version)
        {
            return false;
        }

        ReadOnlySpan<byte> body = wire[..^SignatureLength];
        for (int field = 0; field < 2; field++)
        {
            if (at + 2 > body.Length)
            {
                return false;
            }

            at += 2 + BinaryPrimitives.ReadUInt16BigEndian(body[at..]);
        }

        if (at + 2 > body.Length)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(body[at..]);
        if (length == 0 || at + 2 + length > body.Length)
        {
            return false;
        }

        int max = Encoding.UTF8.GetMaxByteCount(self.Length);
        Span<byte> mine = max <= 256 ? stackalloc byte[max] : new byte[max];
        int written = Encoding.UTF8.GetBytes(self, mine);
        return !body.Slice(at + 2, length).SequenceEqual(mine[..written]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Verify(ReadOnlySpan<byte> publicKey, OperationCounter counter)
    {
        counter.Verifications++;
        return MemberIdentity.Verify(publicKey, SignedMessage(Digest), Signature);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static byte[] SignedMessage(byte[] digest)
    {
        var message = new byte[SignaturePrefix.Length + digest.Length];
        SignaturePrefix.CopyTo(message, 0);
        digest.CopyTo(message, SignaturePrefix.Length);
        return message;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int WriteString(Span<byte> span, int at, byte[] value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)value.Length);
        value.CopyTo(span[(at + 2)..]);
        return at + 2 + value.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryReadString(ReadOnlySpan<byte> span, ref int at, out string value)
    {
        value = string.Empty;
        if (at + 2 > span.Length)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(span[at..]);
        if (at + 2 + length > span.Length)
        {
            return false;
        }

        try
        {
            value = new UTF8Encoding(false, true).GetString(span.Slice(at + 2, length));
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        at += 2 + length;
        return true;
    }
}
