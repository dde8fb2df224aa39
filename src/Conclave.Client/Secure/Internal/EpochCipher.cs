using System.Security.Cryptography;
using System.Text;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Client.Secure.Internal;

/// <summary>
/// The data key of one epoch: AES-256-GCM or ChaCha20-Poly1305 under a key derived from the group key, and a
/// per-sender nonce base, so nonces never need coordinating: nonce = base(sender) XOR (0^4 | sequence).
/// </summary>
/// <remarks>
/// libsodium does the AEAD (its per-call cost is a fraction of OpenSSL's through System.Security.Cryptography, which
/// sets up a context and clears the error queue on every call); AES-256-GCM falls back to <see cref="AesGcm"/> on a
/// CPU without AES-NI/CLMUL. Both give the same bytes.
/// </remarks>
internal sealed class EpochCipher : IDisposable
{
    public const int NonceSize = 12;
    public const int TagSize = 16;

    private readonly SodiumAead? _sodium;
    private readonly AesGcm? _aes;
    private readonly byte[] _nonceSecret;
    private readonly Dictionary<string, byte[]> _nonceBases = new(StringComparer.Ordinal);

    public EpochCipher(SecureAead suite, byte[] groupKey, string group, Epoch epoch)
        : this(suite, groupKey, group, epoch, preferSodium: true)
    {
    }

    /// <summary>As the public constructor; <paramref name="preferSodium"/> false forces System.Security.Cryptography for AES-256-GCM (tests compare the two).</summary>
    internal EpochCipher(SecureAead suite, byte[] groupKey, string group, Epoch epoch, bool preferSodium)
    {
        Suite = suite;
        Epoch = epoch;
        byte[] dataKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, groupKey, 32, salt: null, Label("data key", suite, group));
        _nonceSecret = HKDF.DeriveKey(HashAlgorithmName.SHA256, groupKey, 32, salt: null, Label("data nonce", suite, group));
        if (suite == SecureAead.ChaCha20Poly1305)
        {
            _sodium = SodiumAead.ChaCha20Poly1305(dataKey);
        }
        else if (preferSodium && SodiumAead.IsAes256GcmAvailable)
        {
            _sodium = SodiumAead.Aes256Gcm(dataKey);
        }
        else
        {
            _aes = new AesGcm(dataKey, TagSize);
        }

        CryptographicOperations.ZeroMemory(dataKey);
    }

    public SecureAead Suite { get; }

    public Epoch Epoch { get; }

    public void Seal(string sender, long sequence, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        Nonce(sender, sequence, nonce);
        if (_sodium is not null)
        {
            _sodium.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
        }
        else
        {
            _aes!.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
        }
    }

    /// <summary>Decrypts and authenticates; false (and nothing usable in <paramref name="plaintext"/>) if the message was not sealed under this key.</summary>
    public bool TryOpen(string sender, long sequence, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        Nonce(sender, sequence, nonce);
        if (_sodium is not null)
        {
            return _sodium.TryDecrypt(nonce, ciphertext, tag, plaintext, associatedData);
        }

        try
        {
            _aes!.Decrypt(nonce, ciphertext, tag, plaintext, associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            plaintext.Clear();
            return false;
        }
    }

    public void Dispose()
    {
        _sodium?.Dispose();
        _aes?.Dispose();
        CryptographicOperations.ZeroMemory(_nonceSecret);
        foreach (byte[] b in _nonceBases.Values)
        {
            CryptographicOperations.ZeroMemory(b);
        }
    }

    private static byte[] Label(string purpose, SecureAead suite, string group) =>
        Encoding.UTF8.GetBytes($"conclave secure v2 {purpose} {(int)suite} {group}");

    private void Nonce(string sender, long sequence, Span<byte> nonce)
    {
        if (!_nonceBases.TryGetValue(sender, out byte[]? nonceBase))
        {
            nonceBase = HMACSHA256.HashData(_nonceSecret, Encoding.UTF8.GetBytes(sender))[..NonceSize];
            _nonceBases[sender] = nonceBase;
        }

        nonceBase.CopyTo(nonce);
        Span<byte> counter = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(counter, sequence);
        for (int i = 0; i < 8; i++)
        {
            nonce[4 + i] ^= counter[i];
        }
    }
}
