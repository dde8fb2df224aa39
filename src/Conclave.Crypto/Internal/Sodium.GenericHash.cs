using System.Runtime.InteropServices;

namespace Conclave.Crypto.Internal;

/// <summary>libsodium's BLAKE2b (crypto_generichash), keyed: a PRF over short inputs at a fraction of HKDF's per-call cost.</summary>
internal static partial class Sodium
{
    public const int GenericHashKeyMinBytes = 16;
    public const int GenericHashKeyMaxBytes = 64;

    [LibraryImport(Lib)]
    internal static partial int crypto_generichash(Span<byte> output, nuint outlen, ReadOnlySpan<byte> input, ulong inlen, ReadOnlySpan<byte> key, nuint keylen);
}
