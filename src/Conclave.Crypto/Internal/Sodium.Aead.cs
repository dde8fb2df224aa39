using System.Runtime.InteropServices;

namespace Conclave.Crypto.Internal;

/// <summary>libsodium's AES-256-GCM (with a precomputed key schedule) and IETF ChaCha20-Poly1305, detached tags.</summary>
internal static partial class Sodium
{
    [LibraryImport(Lib)]
    internal static partial int crypto_aead_aes256gcm_is_available();

    [LibraryImport(Lib)]
    internal static partial nuint crypto_aead_aes256gcm_statebytes();

    [LibraryImport(Lib)]
    internal static partial int crypto_aead_aes256gcm_beforenm(nint state, ReadOnlySpan<byte> key);

    [LibraryImport(Lib)]
    internal static partial int crypto_aead_aes256gcm_encrypt_detached_afternm(
        Span<byte> c, Span<byte> mac, out ulong maclen, ReadOnlySpan<byte> m, ulong mlen,
        ReadOnlySpan<byte> ad, ulong adlen, nint nsec, ReadOnlySpan<byte> npub, nint state);

    [LibraryImport(Lib)]
    internal static partial int crypto_aead_aes256gcm_decrypt_detached_afternm(
        Span<byte> m, nint nsec, ReadOnlySpan<byte> c, ulong clen, ReadOnlySpan<byte> mac,
        ReadOnlySpan<byte> ad, ulong adlen, ReadOnlySpan<byte> npub, nint state);

    [LibraryImport(Lib)]
    internal static partial int crypto_aead_chacha20poly1305_ietf_encrypt_detached(
        Span<byte> c, Span<byte> mac, out ulong maclen, ReadOnlySpan<byte> m, ulong mlen,
        ReadOnlySpan<byte> ad, ulong adlen, nint nsec, ReadOnlySpan<byte> npub, nint key);

    [LibraryImport(Lib)]
    internal static partial int crypto_aead_chacha20poly1305_ietf_decrypt_detached(
        Span<byte> m, nint nsec, ReadOnlySpan<byte> c, ulong clen, ReadOnlySpan<byte> mac,
        ReadOnlySpan<byte> ad, ulong adlen, ReadOnlySpan<byte> npub, nint key);
}
