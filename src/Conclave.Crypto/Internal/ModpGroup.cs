using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Agreement;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Conclave.Crypto.Internal;

/// <summary>
/// The order-q subgroup (the quadratic residues) of Z_p^* for a safe prime p = 2q + 1, on BouncyCastle's BigInteger.
/// </summary>
/// <remarks>
/// Fresh shares are short 256-bit exponents (safe with safe primes, 6× cheaper than full size); anything derived
/// through an inverse mod q is full size, which is what Cliques' share updates and factor-outs cost in MODP.
/// BouncyCastle's BigInteger is immutable, so its copies of secrets cannot be erased: MODP groups exist for
/// comparison with the paper; ristretto255 is the group for real use.
/// </remarks>
internal sealed class ModpGroup : DhGroup
{
    /// <summary>
    /// A 512-bit safe prime generated for Conclave from a fixed seed (see docs/key-agreement.md), verified by the tests:
    /// p and (p-1)/2 are prime. Generator 4 (a square ≠ 1) has order q.
    /// </summary>
    internal const string Prime512Hex =
        "86c353c0b431515a562d99e719ed0ec1fb87783516e5adb8c5bf24a320525622b4952fb7224b1ae1f946e11feb49490072a882cc612bf1f53ba14390c25005b3";

    public static readonly ModpGroup Group14 = new("modp2048", DHStandardGroups.rfc3526_2048.P, BigInteger.Two, 256);
    public static readonly ModpGroup Group15 = new("modp3072", DHStandardGroups.rfc3526_3072.P, BigInteger.Two, 256);
    public static readonly ModpGroup Paper512 = new("modp512", new BigInteger(Prime512Hex, 16), BigInteger.Four, 511);

    private readonly int _shareBits;
    private readonly byte[] _generator;

    private ModpGroup(string name, BigInteger p, BigInteger g, int shareBits)
    {
        Name = name;
        P = p;
        Q = p.ShiftRight(1);
        G = g;
        PMinusOne = p.Subtract(BigInteger.One);
        _shareBits = shareBits;
        ElementLength = (p.BitLength + 7) / 8;
        ScalarLength = (Q.BitLength + 7) / 8;
        _generator = Encode(g, ElementLength);
    }

    public override string Name { get; }

    public override int ElementLength { get; }

    public override int ScalarLength { get; }

    internal BigInteger P { get; }

    internal BigInteger Q { get; }

    internal BigInteger G { get; }

    private BigInteger PMinusOne { get; }

    internal override bool ExpValidatesInput => false;

    internal override byte[] Generator => (byte[])_generator.Clone();

    internal override byte[] RandomScalar(IRandomSource random)
    {
        int length = (_shareBits + 7) / 8;
        byte[] buffer = new byte[length];
        try
        {
            while (true)
            {
                random.Fill(buffer);
                int excess = (length * 8) - _shareBits;
                buffer[0] &= (byte)(0xFF >> excess);
                var x = new BigInteger(1, buffer);
                if (x.SignValue > 0 && x.CompareTo(Q) < 0)
                {
                    return Encode(x, ScalarLength);
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    internal override byte[] ScalarFromWide(ReadOnlySpan<byte> wide)
    {
        BigInteger x = new BigInteger(1, wide.ToArray()).Mod(Q);
        if (x.SignValue == 0)
        {
            x = BigInteger.One; // probability 2^-2046; keeps the map total
        }

        return Encode(x, ScalarLength);
    }

    internal override byte[] Exp(ReadOnlySpan<byte> element, ReadOnlySpan<byte> scalar, OperationCounter counter)
    {
        BigInteger y = DecodeElement(element);
        BigInteger e = DecodeScalar(scalar);
        counter.Exponentiations++;
        BigInteger r = y.ModPow(e, P);
        if (r.Equals(BigInteger.One))
        {
            throw new CryptographicException("MODP exponentiation produced the identity.");
        }

        return Encode(r, ElementLength);
    }

    internal override byte[] ExpBase(ReadOnlySpan<byte> scalar, OperationCounter counter)
    {
        BigInteger e = DecodeScalar(scalar);
        counter.BaseExponentiations++;
        return Encode(G.ModPow(e, P), ElementLength);
    }

    internal override byte[] Invert(ReadOnlySpan<byte> scalar, OperationCounter counter)
    {
        BigInteger e = DecodeScalar(scalar);
        counter.Inversions++;
        return Encode(e.ModInverse(Q), ScalarLength);
    }

    internal override byte[] Multiply(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) =>
        Encode(DecodeScalar(a).Multiply(DecodeScalar(b)).Mod(Q), ScalarLength);

    internal override bool IsValidElement(ReadOnlySpan<byte> element, OperationCounter counter)
    {
        if (element.Length != ElementLength)
        {
            return false;
        }

        var y = new BigInteger(1, element.ToArray());
        // 1 < y < p-1 rules out the identity and the order-2 element; y^q = 1 puts y in the order-q subgroup.
        if (y.CompareTo(BigInteger.One) <= 0 || y.CompareTo(PMinusOne) >= 0)
        {
            return false;
        }

        counter.Validations++;
        return y.ModPow(Q, P).Equals(BigInteger.One);
    }

    internal override bool IsValidScalar(ReadOnlySpan<byte> scalar)
    {
        if (scalar.Length != ScalarLength)
        {
            return false;
        }

        var x = new BigInteger(1, scalar.ToArray());
        return x.SignValue > 0 && x.CompareTo(Q) < 0;
    }

    private BigInteger DecodeElement(ReadOnlySpan<byte> element)
    {
        if (element.Length != ElementLength)
        {
            throw new ArgumentException($"A {Name} element is {ElementLength} bytes.", nameof(element));
        }

        return new BigInteger(1, element.ToArray());
    }

    private BigInteger DecodeScalar(ReadOnlySpan<byte> scalar)
    {
        if (scalar.Length != ScalarLength)
        {
            throw new ArgumentException($"A {Name} scalar is {ScalarLength} bytes.", nameof(scalar));
        }

        var x = new BigInteger(1, scalar.ToArray());
        if (x.SignValue == 0 || x.CompareTo(Q) >= 0)
        {
            throw new CryptographicException("Scalar is zero or not reduced modulo q.");
        }

        return x;
    }

    private static byte[] Encode(BigInteger value, int length)
    {
        byte[] raw = value.ToByteArrayUnsigned();
        if (raw.Length == length)
        {
            return raw;
        }

        var padded = new byte[length];
        raw.CopyTo(padded, length - raw.Length);
        return padded;
    }
}
