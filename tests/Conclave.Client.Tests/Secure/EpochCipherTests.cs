using Conclave.Client.Secure;
using Conclave.Client.Secure.Internal;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Client.Tests.Secure;

/// <summary>The epoch key through libsodium seals the bytes System.Security.Cryptography sealed before: the wire format is unchanged.</summary>
public sealed class EpochCipherTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1024)]
    [InlineData(5000)]
    public void AES_GCM_through_libsodium_and_through_System_Security_Cryptography_seal_the_same_bytes_and_open_each_other(int length)
    {
        byte[] groupKey = new byte[32];
        new Random(length).NextBytes(groupKey);
        var epoch = new Epoch(0x1122334455667788, 3);
        using var sodium = new EpochCipher(SecureAead.Aes256Gcm, (byte[])groupKey.Clone(), "grp", epoch, preferSodium: true);
        using var dotnet = new EpochCipher(SecureAead.Aes256Gcm, (byte[])groupKey.Clone(), "grp", epoch, preferSodium: false);
        byte[] plaintext = new byte[length];
        new Random(length + 1).NextBytes(plaintext);
        byte[] ad = "header|grp|#a#d"u8.ToArray();

        (byte[] c1, byte[] t1) = Seal(sodium, "#a#d", 41, plaintext, ad);
        (byte[] c2, byte[] t2) = Seal(dotnet, "#a#d", 41, plaintext, ad);
        Assert.Equal(c2, c1);
        Assert.Equal(t2, t1);

        var opened = new byte[length];
        Assert.True(dotnet.TryOpen("#a#d", 41, c1, t1, opened, ad));
        Assert.Equal(plaintext, opened);
        Assert.True(sodium.TryOpen("#a#d", 41, c2, t2, opened, ad));
        Assert.Equal(plaintext, opened);

        // Another sender's nonce, or another sequence number, does not open it.
        Assert.False(sodium.TryOpen("#b#d", 41, c1, t1, opened, ad));
        Assert.False(dotnet.TryOpen("#a#d", 42, c1, t1, opened, ad));
    }

    [Fact]
    public void ChaCha20_Poly1305_epochs_of_different_keys_do_not_open_each_other()
    {
        var epoch = new Epoch(1, 1);
        using var one = new EpochCipher(SecureAead.ChaCha20Poly1305, new byte[32], "grp", epoch);
        byte[] other = new byte[32];
        other[0] = 1;
        using var two = new EpochCipher(SecureAead.ChaCha20Poly1305, other, "grp", epoch);
        (byte[] c, byte[] t) = Seal(one, "#a#d", 0, "hello"u8.ToArray(), []);
        var opened = new byte[5];
        Assert.False(two.TryOpen("#a#d", 0, c, t, opened, []));
        Assert.True(one.TryOpen("#a#d", 0, c, t, opened, []));
        Assert.Equal("hello"u8.ToArray(), opened);
    }

    private static (byte[] Ciphertext, byte[] Tag) Seal(EpochCipher cipher, string sender, long sequence, byte[] plaintext, byte[] ad)
    {
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[EpochCipher.TagSize];
        cipher.Seal(sender, sequence, plaintext, ciphertext, tag, ad);
        return (ciphertext, tag);
    }
}
