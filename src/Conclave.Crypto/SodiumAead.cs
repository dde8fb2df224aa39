using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Conclave.Crypto.Internal;

namespace Conclave.Crypto;

/// <summary>
/// An AEAD key held by libsodium: AES-256-GCM with its key schedule and GHASH table computed once per key, or IETF
/// ChaCha20-Poly1305 (RFC 8439). 12-byte nonces, 16-byte detached tags: the same bytes as
/// <see cref="AesGcm"/> and <see cref="System.Security.Cryptography.ChaCha20Poly1305"/> produce, at a fraction of their
/// per-call cost (no OpenSSL context set-up or error-queue clearing per message).
/// </summary>
/// <remarks>
/// The key state lives in unmanaged memory and is erased on <see cref="Dispose"/>. Encrypting and decrypting only read
/// the state, so concurrent calls are safe; <see cref="Dispose"/> must not race them.
/// </remarks>
public sealed class SodiumAead : IDisposable
{
    /// <summary>The key size of both algorithms, in bytes.</summary>
    public const int KeySize = 32;

    /// <summary>The nonce size of both algorithms, in bytes.</summary>
    public const int NonceSize = 12;

    /// <summary>The authentication tag size, in bytes.</summary>
    public const int TagSize = 16;

    // libsodium declares the AES-GCM state 16-byte aligned; a cache line costs nothing more.
    private const nuint Alignment = 64;

    private readonly bool _aes;
    private readonly nuint _stateSize;
    private nint _state;

    private SodiumAead(bool aes, ReadOnlySpan<byte> key)
    {
        Sodium.EnsureInitialized();
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"An AEAD key is {KeySize} bytes.", nameof(key));
        }

        _aes = aes;
        _stateSize = aes ? Sodium.crypto_aead_aes256gcm_statebytes() : KeySize;
        unsafe
        {
            _state = (nint)NativeMemory.AlignedAlloc(_stateSize, Alignment);
        }

        if (aes)
        {
            Sodium.crypto_aead_aes256gcm_beforenm(_state, key);
        }
        else
        {
            key.CopyTo(StateSpan());
        }
    }

    /// <summary>Gets a value indicating whether this CPU runs libsodium's AES-256-GCM (it needs AES-NI and CLMUL).</summary>
    public static bool IsAes256GcmAvailable { get; } = AesAvailable();

    /// <summary>Creates an AES-256-GCM key.</summary>
    /// <param name="key">The 32-byte key; not kept.</param>
    /// <returns>The key, ready to encrypt and decrypt.</returns>
    /// <exception cref="PlatformNotSupportedException">The CPU lacks AES-NI or CLMUL (see <see cref="IsAes256GcmAvailable"/>).</exception>
    public static SodiumAead Aes256Gcm(ReadOnlySpan<byte> key) =>
        IsAes256GcmAvailable ? new SodiumAead(true, key) : throw new PlatformNotSupportedException("libsodium's AES-256-GCM needs AES-NI and CLMUL.");

    /// <summary>Creates an IETF ChaCha20-Poly1305 key.</summary>
    /// <param name="key">The 32-byte key; copied into unmanaged memory.</param>
    /// <returns>The key, ready to encrypt and decrypt.</returns>
    public static SodiumAead ChaCha20Poly1305(ReadOnlySpan<byte> key) => new(false, key);

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="ciphertext"/> (same length) and writes the tag.</summary>
    /// <param name="nonce">12 bytes, never reused with this key.</param>
    /// <param name="plaintext">The message.</param>
    /// <param name="ciphertext">As long as <paramref name="plaintext"/>; it may be the very same memory, but must not overlap it otherwise.</param>
    /// <param name="tag">16 bytes.</param>
    /// <param name="associatedData">Authenticated, not encrypted.</param>
    public void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        Check(nonce, plaintext.Length, ciphertext.Length, tag.Length);
        int result = _aes
            ? Sodium.crypto_aead_aes256gcm_encrypt_detached_afternm(ciphertext, tag, out _, plaintext, (ulong)plaintext.Length, associatedData, (ulong)associatedData.Length, 0, nonce, _state)
            : Sodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached(ciphertext, tag, out _, plaintext, (ulong)plaintext.Length, associatedData, (ulong)associatedData.Length, 0, nonce, _state);
        if (result != 0)
        {
            throw new CryptographicException("libsodium refused to encrypt.");
        }
    }

    /// <summary>Authenticates and decrypts.</summary>
    /// <param name="nonce">The 12-byte nonce it was sealed with.</param>
    /// <param name="ciphertext">The ciphertext.</param>
    /// <param name="tag">Its 16-byte tag.</param>
    /// <param name="plaintext">As long as <paramref name="ciphertext"/>; it may be the very same memory, but must not overlap it otherwise.</param>
    /// <param name="associatedData">What the sender authenticated with it.</param>
    /// <returns>True with the plaintext written; false, with <paramref name="plaintext"/> zeroed, if the tag does not verify.</returns>
    public bool TryDecrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        Check(nonce, ciphertext.Length, plaintext.Length, tag.Length);
        int result = _aes
            ? Sodium.crypto_aead_aes256gcm_decrypt_detached_afternm(plaintext, 0, ciphertext, (ulong)ciphertext.Length, tag, associatedData, (ulong)associatedData.Length, nonce, _state)
            : Sodium.crypto_aead_chacha20poly1305_ietf_decrypt_detached(plaintext, 0, ciphertext, (ulong)ciphertext.Length, tag, associatedData, (ulong)associatedData.Length, nonce, _state);
        if (result != 0)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            return false;
        }

        return true;
    }

    /// <summary>Erases and frees the key state.</summary>
    public void Dispose()
    {
        if (_state == 0)
        {
            return;
        }

        CryptographicOperations.ZeroMemory(StateSpan());
        unsafe
        {
            NativeMemory.AlignedFree((void*)_state);
        }

        _state = 0;
    }

    private static bool AesAvailable()
    {
        Sodium.EnsureInitialized();
        return Sodium.crypto_aead_aes256gcm_is_available() == 1;
    }

    private unsafe Span<byte> StateSpan() => new((void*)_state, (int)_stateSize);

    private void Check(ReadOnlySpan<byte> nonce, int inputLength, int outputLength, int tagLength)
    {
        ObjectDisposedException.ThrowIf(_state == 0, this);
        if (nonce.Length != NonceSize || tagLength != TagSize || inputLength != outputLength)
        {
            ThrowSizes();
        }
    }

    private static void ThrowSizes() =>
        throw new ArgumentException($"The nonce is {NonceSize} bytes, the tag {TagSize}, and the output as long as the input.");
}
