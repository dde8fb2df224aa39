using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Conclave.Crypto.Internal;

namespace Conclave.Crypto.KeyAgreement;

/// <summary>
/// Seals node keys of a sponsor's path for the members under its parent (key-agreement.md §6.3, "sealed path").
/// </summary>
/// <remarks>
/// The AEAD key is BLAKE2b keyed by the key of the sponsor's path node, over a label and the message's context. Whoever
/// knows that node key can already compute every key above it from public blinded keys, so the box tells no one anything new;
/// it saves the members under the parent (after a join, the joiner) a path of exponentiations. The context (view,
/// run, sender, first step) makes every box's key single-use, so the nonce is fixed.
/// </remarks>
internal static class TgdhPathSeal
{
    public const int TagLength = SodiumAead.TagSize;

    private static readonly byte[] Label = "conclave tgdh sealed path v1"u8.ToArray();

    /// <summary>The keys, concatenated and sealed: <c>keys.Count × scalar length</c> bytes of ciphertext, then the tag.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static byte[] Seal(ReadOnlySpan<byte> unlockKey, ReadOnlySpan<byte> context, IReadOnlyList<byte[]> keys)
    {
        int length = 0;
        foreach (byte[] key in keys)
        {
            length += key.Length;
        }

        byte[] plain = new byte[length];
        try
        {
            int at = 0;
            foreach (byte[] key in keys)
            {
                key.CopyTo(plain, at);
                at += key.Length;
            }

            return Seal(unlockKey, context, plain);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <summary>As above, with the keys already concatenated in <paramref name="plain"/> (not erased here).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static byte[] Seal(ReadOnlySpan<byte> unlockKey, ReadOnlySpan<byte> context, ReadOnlySpan<byte> plain)
    {
        var box = new byte[plain.Length + TagLength];
        using SodiumAead aead = Aead(unlockKey, context);
        aead.Encrypt(stackalloc byte[SodiumAead.NonceSize], plain, box.AsSpan(0, plain.Length), box.AsSpan(plain.Length), context);
        return box;
    }

    /// <summary>Opens a box of <paramref name="count"/> keys; false if it does not authenticate under this key and context.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryOpen(ReadOnlySpan<byte> unlockKey, ReadOnlySpan<byte> context, ReadOnlySpan<byte> box, int count, int scalarLength, out List<byte[]> keys)
    {
        keys = [];
        int length = count * scalarLength;
        if (box.Length != length + TagLength)
        {
            return false;
        }

        byte[] plain = new byte[length];
        try
        {
            using SodiumAead aead = Aead(unlockKey, context);
            if (!aead.TryDecrypt(stackalloc byte[SodiumAead.NonceSize], box[..length], box[length..], plain, context))
            {
                return false;
            }

            for (int i = 0; i < count; i++)
            {
                keys.Add(plain.AsSpan(i * scalarLength, scalarLength).ToArray());
            }

            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    // Keyed BLAKE2b (libsodium) rather than HKDF-SHA-256: a publication seals up to ten boxes on the sponsor's step,
    // the critical one of every event, and HKDF through OpenSSL cost several µs each (BLAKE2b keyed by a uniform
    // 32-byte secret is a PRF, libsodium's own crypto_kdf construction).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static SodiumAead Aead(ReadOnlySpan<byte> unlockKey, ReadOnlySpan<byte> context)
    {
        Sodium.EnsureInitialized();
        if (unlockKey.Length < Sodium.GenericHashKeyMinBytes)
        {
            throw new ArgumentException("A node key for a sealed box has at least 16 bytes.", nameof(unlockKey));
        }

        Span<byte> wideKey = stackalloc byte[Sodium.GenericHashKeyMaxBytes];
        scoped ReadOnlySpan<byte> prfKey = unlockKey;
        if (unlockKey.Length > Sodium.GenericHashKeyMaxBytes)
        {
            // MODP scalars (256 bytes and more) are longer than a BLAKE2b key: their unkeyed hash keys it instead.
            Check(Sodium.crypto_generichash(wideKey, (nuint)wideKey.Length, unlockKey, (ulong)unlockKey.Length, [], 0));
            prfKey = wideKey;
        }

        int infoLength = Label.Length + context.Length;
        Span<byte> info = infoLength <= 256 ? stackalloc byte[infoLength] : new byte[infoLength];
        Label.CopyTo(info);
        context.CopyTo(info[Label.Length..]);
        Span<byte> key = stackalloc byte[SodiumAead.KeySize];
        try
        {
            Check(Sodium.crypto_generichash(key, (nuint)key.Length, info, (ulong)info.Length, prfKey, (nuint)prfKey.Length));
            return SodiumAead.ChaCha20Poly1305(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(wideKey);
        }
    }

    private static void Check(int result)
    {
        if (result != 0)
        {
            throw new CryptographicException("BLAKE2b failed.");
        }
    }
}
