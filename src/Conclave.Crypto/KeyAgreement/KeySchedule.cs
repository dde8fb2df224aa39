using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace Conclave.Crypto.KeyAgreement;

// Methods carry [MethodImpl(AggressiveOptimization)]: a membership event runs most of this code once or a few
// times, so under tiered JIT it would stay in the unoptimised first tier for a member's first ~30 events
// (measured at n = 1000: TGDH join 2.1-2.3 ms tiered, 1.9-2.0 ms optimised; docs/benchmarks.md).
/// <summary>
/// Turns a run's group secret into the epoch key: HKDF-SHA-256 with the transcript hash as salt
/// (key-agreement.md §1e). The raw group element is never used as a key.
/// </summary>
internal static class KeySchedule
{
    private static readonly byte[] KeyLabel = "conclave epoch key v1"u8.ToArray();
    private static readonly byte[] ConfirmLabel = "conclave key confirmation v1"u8.ToArray();

    /// <summary>SHA-256 of the view's members in order (<see cref="PayloadWriter.Names"/> encoding), once per view.</summary>
    public static byte[] MembersDigest(IReadOnlyList<string> members) => SHA256.HashData(EncodeNames(members));

    /// <summary>
    /// Hash of the run's context (protocol, group, DH group, view, run, digest of the members in order) and of every
    /// broadcast of the run in delivery order (identical at all members under agreed delivery).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static byte[] TranscriptHash(
        KeyAgreementProtocol protocol, string group, DhGroup dhGroup, Epoch epoch, byte[] membersDigest, IReadOnlyList<byte[]> broadcastDigests)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var writer = new PayloadWriter()
            .Bytes("conclave/transcript/v1"u8)
            .U8((byte)protocol)
            .Names([group, dhGroup.Name, epoch.ViewId.ToString(System.Globalization.CultureInfo.InvariantCulture), epoch.Run.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        hash.AppendData(writer.ToArray());
        hash.AppendData(membersDigest);
        Span<byte> count = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(count, broadcastDigests.Count);
        hash.AppendData(count);
        foreach (byte[] digest in broadcastDigests)
        {
            hash.AppendData(digest);
        }

        return hash.GetHashAndReset();
    }

    /// <summary>
    /// The same bytes as <see cref="PayloadWriter.Names"/> (u16 count, then u16 length + UTF-8 per name) in one exactly
    /// sized array: every member hashes the whole view once per view.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static byte[] EncodeNames(IReadOnlyList<string> names)
    {
        int size = 2;
        for (int i = 0; i < names.Count; i++)
        {
            size += 2 + Encoding.UTF8.GetByteCount(names[i]);
        }

        var buffer = new byte[size];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(buffer, checked((ushort)names.Count));
        int at = 2;
        for (int i = 0; i < names.Count; i++)
        {
            int length = Encoding.UTF8.GetBytes(names[i], buffer.AsSpan(at + 2));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(at), checked((ushort)length));
            at += 2 + length;
        }

        return buffer;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (byte[] Key, byte[] Confirmation) Derive(ReadOnlySpan<byte> element, ReadOnlySpan<byte> transcriptHash)
    {
        Span<byte> prk = stackalloc byte[32];
        Span<byte> confirmKey = stackalloc byte[32];
        try
        {
            HKDF.Extract(HashAlgorithmName.SHA256, element, transcriptHash, prk);
            var key = new byte[32];
            HKDF.Expand(HashAlgorithmName.SHA256, prk, key, KeyLabel);
            HKDF.Expand(HashAlgorithmName.SHA256, prk, confirmKey, ConfirmLabel);
            byte[] confirmation = HMACSHA256.HashData(confirmKey, transcriptHash);
            return (key, confirmation);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(prk);
            CryptographicOperations.ZeroMemory(confirmKey);
        }
    }

    /// <summary>Maps a DH result to a scalar (TGDH node keys, CKD pairwise keys), bound to a label.</summary>
    // SHA-512(label ‖ element) in one call over a stack buffer: a TGDH path maps ten elements on the sponsor's step,
    // and an incremental hash context per call cost more than the hashing.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static byte[] ElementToScalar(DhGroup group, string label, ReadOnlySpan<byte> element)
    {
        int labelLength = Encoding.UTF8.GetByteCount(label);
        int length = labelLength + element.Length;
        Span<byte> input = length <= 512 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(label, input);
        element.CopyTo(input[labelLength..]);
        Span<byte> wide = stackalloc byte[64];
        SHA512.HashData(input, wide);
        byte[] scalar = group.ScalarFromWide(wide);
        CryptographicOperations.ZeroMemory(wide);
        CryptographicOperations.ZeroMemory(input);
        return scalar;
    }
}
