using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Conclave.Crypto.KeyAgreement;

/// <summary>
/// Seals node keys of a sponsor's path for the members under its parent (key-agreement.md §6.3, "sealed path").
/// </summary>
/// <remarks>
/// The AEAD key is HKDF-SHA-256 of the key of the sponsor's parent, bound to the message's context. Whoever knows that
/// node key can already compute every key above it from public blinded keys, so the box tells no one anything new;
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

        var box = new byte[length + TagLength];
        byte[] plain = new byte[length];
        try
        {
            int at = 0;
            foreach (byte[] key in keys)
            {
                key.CopyTo(plain, at);
                at += key.Length;
            }

            using SodiumAead aead = Aead(unlockKey, context);
            aead.Encrypt(stackalloc byte[SodiumAead.NonceSize], plain, box.AsSpan(0, length), box.AsSpan(length), context);
            return box;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static SodiumAead Aead(ReadOnlySpan<byte> unlockKey, ReadOnlySpan<byte> context)
    {
        var info = new byte[Label.Length + context.Length];
        Label.CopyTo(info);
        context.CopyTo(info.AsSpan(Label.Length));
        Span<byte> key = stackalloc byte[SodiumAead.KeySize];
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, unlockKey, key, [], info);
            return SodiumAead.ChaCha20Poly1305(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
