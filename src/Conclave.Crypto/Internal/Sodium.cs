using System.Runtime.InteropServices;

namespace Conclave.Crypto.Internal;

/// <summary>The few libsodium functions Conclave uses, bound by source-generated P/Invoke.</summary>
internal static partial class Sodium
{
    private const string Lib = "libsodium";

    public const int RistrettoBytes = 32;
    public const int RistrettoScalarBytes = 32;
    public const int RistrettoWideScalarBytes = 64;
    public const int SignPublicKeyBytes = 32;
    public const int SignSecretKeyBytes = 64;
    public const int SignSeedBytes = 32;
    public const int SignatureBytes = 64;

    private static readonly bool Initialized = Init();

    /// <summary>Forces sodium_init() to have run (it is idempotent and thread-safe; we call it once).</summary>
    public static void EnsureInitialized()
    {
        if (!Initialized)
        {
            throw new InvalidOperationException("libsodium failed to initialise.");
        }
    }

    private static bool Init() => sodium_init() >= 0;

    [LibraryImport(Lib)]
    private static partial int sodium_init();

    [LibraryImport(Lib)]
    internal static partial int crypto_scalarmult_ristretto255(Span<byte> q, ReadOnlySpan<byte> n, ReadOnlySpan<byte> p);

    [LibraryImport(Lib)]
    internal static partial int crypto_scalarmult_ristretto255_base(Span<byte> q, ReadOnlySpan<byte> n);

    [LibraryImport(Lib)]
    internal static partial int crypto_core_ristretto255_scalar_invert(Span<byte> recip, ReadOnlySpan<byte> s);

    [LibraryImport(Lib)]
    internal static partial void crypto_core_ristretto255_scalar_random(Span<byte> r);

    [LibraryImport(Lib)]
    internal static partial void crypto_core_ristretto255_scalar_reduce(Span<byte> r, ReadOnlySpan<byte> s);

    [LibraryImport(Lib)]
    internal static partial void crypto_core_ristretto255_scalar_mul(Span<byte> z, ReadOnlySpan<byte> x, ReadOnlySpan<byte> y);

    [LibraryImport(Lib)]
    internal static partial int crypto_core_ristretto255_is_valid_point(ReadOnlySpan<byte> p);

    [LibraryImport(Lib)]
    internal static partial int crypto_sign_seed_keypair(Span<byte> pk, Span<byte> sk, ReadOnlySpan<byte> seed);

    [LibraryImport(Lib)]
    internal static partial int crypto_sign_detached(Span<byte> sig, out ulong siglen, ReadOnlySpan<byte> m, ulong mlen, ReadOnlySpan<byte> sk);

    [LibraryImport(Lib)]
    internal static partial int crypto_sign_verify_detached(ReadOnlySpan<byte> sig, ReadOnlySpan<byte> m, ulong mlen, ReadOnlySpan<byte> pk);
}
