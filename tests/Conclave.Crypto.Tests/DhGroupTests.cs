using Conclave.Crypto;
using Conclave.Crypto.Internal;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Conclave.Crypto.Tests;

public sealed class DhGroupTests
{
    public static TheoryData<string> GroupNames => new() { "ristretto255", "modp512", "modp2048" };

    [Theory]
    [MemberData(nameof(GroupNames))]
    public void Diffie_Hellman_commutes_and_factor_out_undoes_a_share(string name)
    {
        DhGroup group = DhGroup.FromName(name);
        var counter = new OperationCounter();
        var random = new SeededRandomSource(7);
        byte[] a = group.RandomScalar(random);
        byte[] b = group.RandomScalar(random);

        byte[] ga = group.ExpBase(a, counter);
        byte[] gb = group.ExpBase(b, counter);
        byte[] gab = group.Exp(ga, b, counter);
        Assert.Equal(gab, group.Exp(gb, a, counter));

        // (g^ab)^(1/a) = g^b: the Cliques factor-out needs a prime-order group.
        Assert.Equal(gb, group.Exp(gab, group.Invert(a, counter), counter));
        // g^(a·b) through scalar multiplication.
        Assert.Equal(gab, group.ExpBase(group.Multiply(a, b), counter));

        Assert.Equal(3, counter.Exponentiations);
        Assert.Equal(3, counter.BaseExponentiations);
        Assert.Equal(1, counter.Inversions);
        Assert.True(group.IsValidElement(gab, counter));
        Assert.True(group.IsValidElement(group.Generator, counter));
        Assert.Equal(2, counter.Validations);
    }

    [Theory]
    [MemberData(nameof(GroupNames))]
    public void Invalid_elements_and_scalars_are_rejected(string name)
    {
        DhGroup group = DhGroup.FromName(name);
        var counter = new OperationCounter();
        var identity = new byte[group.ElementLength];
        Assert.False(group.IsValidElement(identity, counter));
        Assert.False(group.IsValidElement(new byte[group.ElementLength - 1], counter));
        Assert.False(group.IsValidScalar(new byte[group.ScalarLength]));
        Assert.False(group.IsValidScalar(Enumerable.Repeat((byte)0xFF, group.ScalarLength).ToArray()));
        Assert.True(group.IsValidScalar(group.RandomScalar(new SeededRandomSource(1))));

        if (group is ModpGroup modp)
        {
            var one = new byte[group.ElementLength];
            one[^1] = 1;
            Assert.False(group.IsValidElement(one, counter));
            // p-1 has order 2; a non-residue (here g·(p-1) = -g) is outside the subgroup.
            byte[] minusOne = Pad(modp.P.Subtract(BigInteger.One), group.ElementLength);
            Assert.False(group.IsValidElement(minusOne, counter));
            byte[] minusG = Pad(modp.P.Subtract(modp.G), group.ElementLength);
            Assert.False(group.IsValidElement(minusG, counter));
        }
        else
        {
            var random = new SeededRandomSource(3);
            int rejected = 0;
            var bytes = new byte[32];
            for (int i = 0; i < 64; i++)
            {
                random.Fill(bytes);
                rejected += group.IsValidElement(bytes, counter) ? 0 : 1;
            }

            Assert.True(rejected > 32, $"only {rejected}/64 random strings rejected as ristretto255 points");
            Assert.Throws<System.Security.Cryptography.CryptographicException>(() => group.Exp(identity, group.RandomScalar(random), counter));
        }
    }

    [Theory]
    [InlineData("modp512")]
    [InlineData("modp2048")]
    [InlineData("modp3072")]
    public void Modp_primes_are_safe_primes_and_the_generator_has_order_q(string name)
    {
        var group = (ModpGroup)DhGroup.FromName(name);
        Assert.True(group.P.IsProbablePrime(20), "p is not prime");
        Assert.True(group.Q.IsProbablePrime(20), "q = (p-1)/2 is not prime");
        Assert.Equal(group.P.Subtract(BigInteger.One), group.Q.ShiftLeft(1));
        Assert.Equal(BigInteger.One, group.G.ModPow(group.Q, group.P));
        Assert.NotEqual(BigInteger.One, group.G);
        Assert.Equal(int.Parse(name[4..], System.Globalization.CultureInfo.InvariantCulture), group.P.BitLength);
    }

    [Fact]
    public void Group_names_round_trip_and_unknown_names_fail()
    {
        foreach (DhGroup group in DhGroup.All)
        {
            Assert.Same(group, DhGroup.FromName(group.Name.ToUpperInvariant()));
        }

        Assert.Throws<ArgumentException>(() => DhGroup.FromName("p256"));
    }

    private static byte[] Pad(BigInteger value, int length)
    {
        byte[] raw = value.ToByteArrayUnsigned();
        var padded = new byte[length];
        raw.CopyTo(padded, length - raw.Length);
        return padded;
    }
}
