using System.Security.Cryptography;
using Conclave.Crypto.Internal;

namespace Conclave.Crypto;

/// <summary>A member's long-term Ed25519 signing key pair (libsodium), which signs its key agreement messages.</summary>
public sealed class MemberIdentity : IDisposable
{
    private readonly byte[] _seed;
    private readonly byte[] _secretKey;

    private MemberIdentity(byte[] seed)
    {
        Sodium.EnsureInitialized();
        if (seed.Length != Sodium.SignSeedBytes)
        {
            throw new ArgumentException("An Ed25519 seed is 32 bytes.", nameof(seed));
        }

        _seed = seed;
        _secretKey = new byte[Sodium.SignSecretKeyBytes];
        PublicKey = new byte[Sodium.SignPublicKeyBytes];
        if (Sodium.crypto_sign_seed_keypair(PublicKey, _secretKey, _seed) != 0)
        {
            throw new CryptographicException("libsodium could not derive an Ed25519 key pair.");
        }
    }

    /// <summary>The 32-byte Ed25519 public key.</summary>
    public byte[] PublicKey { get; }

    /// <summary>Creates a key pair from the operating system's random number generator.</summary>
    public static MemberIdentity Generate() => new(RandomNumberGenerator.GetBytes(Sodium.SignSeedBytes));

    /// <summary>Recreates a key pair from its 32-byte seed (the secret part of a key file).</summary>
    public static MemberIdentity FromSeed(ReadOnlySpan<byte> seed) => new(seed.ToArray());

    /// <summary>Copies the 32-byte secret seed into <paramref name="destination"/> (for writing a key file).</summary>
    public void ExportSeed(Span<byte> destination) => _seed.CopyTo(destination);

    /// <summary>Signs <paramref name="message"/>; returns the 64-byte detached signature.</summary>
    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        var signature = new byte[Sodium.SignatureBytes];
        Sodium.crypto_sign_detached(signature, out _, message, (ulong)message.Length, _secretKey);
        return signature;
    }

    /// <summary>Verifies an Ed25519 detached signature.</summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        Sodium.EnsureInitialized();
        return publicKey.Length == Sodium.SignPublicKeyBytes
            && signature.Length == Sodium.SignatureBytes
            && Sodium.crypto_sign_verify_detached(signature, message, (ulong)message.Length, publicKey) == 0;
    }

    private bool IsDisposed { get; set; }

    /// <summary>Erases the secret key material.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_seed);
        CryptographicOperations.ZeroMemory(_secretKey);
        IsDisposed = true;
    }
}
