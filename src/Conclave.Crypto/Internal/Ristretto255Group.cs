using System.Security.Cryptography;

namespace Conclave.Crypto.Internal;

/// <summary>ristretto255 via libsodium: prime order ℓ = 2^252 + 27742317777372353535851937790883648493.</summary>
internal sealed class Ristretto255Group : DhGroup
{
    public static readonly Ristretto255Group Instance = new();

    private static readonly byte[] BasePoint = ComputeBasePoint();

    private Ristretto255Group()
    {
    }

    public override string Name => "ristretto255";

    public override int ElementLength => Sodium.RistrettoBytes;

    public override int ScalarLength => Sodium.RistrettoScalarBytes;

    internal override bool ExpValidatesInput => true;

    internal override byte[] Generator => (byte[])BasePoint.Clone();

    internal override byte[] RandomScalar(IRandomSource random)
    {
        Span<byte> wide = stackalloc byte[Sodium.RistrettoWideScalarBytes];
        try
        {
            while (true)
            {
                random.Fill(wide);
                byte[] scalar = ScalarFromWide(wide);
                if (IsValidScalar(scalar))
                {
                    return scalar;
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(wide);
        }
    }

    internal override byte[] ScalarFromWide(ReadOnlySpan<byte> wide)
    {
        if (wide.Length != Sodium.RistrettoWideScalarBytes)
        {
            throw new ArgumentException("Need 64 bytes.", nameof(wide));
        }

        var scalar = new byte[Sodium.RistrettoScalarBytes];
        Sodium.crypto_core_ristretto255_scalar_reduce(scalar, wide);
        return scalar;
    }

    internal override byte[] Exp(ReadOnlySpan<byte> element, ReadOnlySpan<byte> scalar, OperationCounter counter)
    {
        CheckScalar(scalar);
        var result = new byte[Sodium.RistrettoBytes];
        counter.Exponentiations++;
        // Returns -1 for an invalid input point or an identity result: both are protocol violations.
        if (Sodium.crypto_scalarmult_ristretto255(result, scalar, element) != 0)
        {
            throw new CryptographicException("ristretto255 scalar multiplication rejected its input.");
        }

        return result;
    }

    internal override byte[] ExpBase(ReadOnlySpan<byte> scalar, OperationCounter counter)
    {
        CheckScalar(scalar);
        var result = new byte[Sodium.RistrettoBytes];
        counter.BaseExponentiations++;
        if (Sodium.crypto_scalarmult_ristretto255_base(result, scalar) != 0)
        {
            throw new CryptographicException("ristretto255 base multiplication rejected its scalar.");
        }

        return result;
    }

    internal override byte[] Invert(ReadOnlySpan<byte> scalar, OperationCounter counter)
    {
        CheckScalar(scalar);
        var result = new byte[Sodium.RistrettoScalarBytes];
        counter.Inversions++;
        if (Sodium.crypto_core_ristretto255_scalar_invert(result, scalar) != 0)
        {
            throw new CryptographicException("Cannot invert zero.");
        }

        return result;
    }

    internal override byte[] Multiply(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        CheckScalar(a);
        CheckScalar(b);
        var result = new byte[Sodium.RistrettoScalarBytes];
        Sodium.crypto_core_ristretto255_scalar_mul(result, a, b);
        return result;
    }

    internal override bool IsValidElement(ReadOnlySpan<byte> element, OperationCounter counter)
    {
        counter.Validations++;
        // Decoding rejects anything outside the group; the all-zero encoding is the identity, which we refuse.
        return element.Length == Sodium.RistrettoBytes
            && element.IndexOfAnyExcept((byte)0) >= 0
            && Sodium.crypto_core_ristretto255_is_valid_point(element) == 1;
    }

    internal override bool IsValidScalar(ReadOnlySpan<byte> scalar)
    {
        if (scalar.Length != Sodium.RistrettoScalarBytes || scalar.IndexOfAnyExcept((byte)0) < 0)
        {
            return false;
        }

        // Reduced iff reducing (scalar ‖ 0^32) gives the same bytes back.
        Span<byte> wide = stackalloc byte[Sodium.RistrettoWideScalarBytes];
        Span<byte> reduced = stackalloc byte[Sodium.RistrettoScalarBytes];
        wide.Clear();
        scalar.CopyTo(wide);
        Sodium.crypto_core_ristretto255_scalar_reduce(reduced, wide);
        bool ok = reduced.SequenceEqual(scalar);
        CryptographicOperations.ZeroMemory(wide);
        CryptographicOperations.ZeroMemory(reduced);
        return ok;
    }

    private void CheckScalar(ReadOnlySpan<byte> scalar)
    {
        if (scalar.Length != ScalarLength)
        {
            throw new ArgumentException($"A ristretto255 scalar is {ScalarLength} bytes.", nameof(scalar));
        }
    }

    private static byte[] ComputeBasePoint()
    {
        Sodium.EnsureInitialized();
        var one = new byte[Sodium.RistrettoScalarBytes];
        one[0] = 1;
        var point = new byte[Sodium.RistrettoBytes];
        if (Sodium.crypto_scalarmult_ristretto255_base(point, one) != 0)
        {
            throw new CryptographicException("libsodium could not compute the ristretto255 base point.");
        }

        return point;
    }
}
