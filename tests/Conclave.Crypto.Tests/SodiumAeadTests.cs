using System.Security.Cryptography;

namespace Conclave.Crypto.Tests;

/// <summary>libsodium's AEADs give exactly the bytes of System.Security.Cryptography's, and refuse what they must.</summary>
public sealed class SodiumAeadTests
{
    public static TheoryData<bool, int> Cases()
    {
        var data = new TheoryData<bool, int>();
        foreach (bool aes in new[] { true, false })
        {
            foreach (int length in new[] { 0, 1, 15, 16, 17, 1024, 4099 })
            {
                data.Add(aes, length);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Seals_as_System_Security_Cryptography_does_and_each_opens_the_other(bool aes, int length)
    {
        if (aes && !SodiumAead.IsAes256GcmAvailable)
        {
            // No AES-NI/CLMUL: the key cannot be made, and the secure layer uses System.Security.Cryptography instead.
            Assert.Throws<PlatformNotSupportedException>(() => SodiumAead.Aes256Gcm(new byte[32]));
            return;
        }

        var random = new Random(length + (aes ? 1 : 2));
        byte[] key = Bytes(random, 32);
        byte[] nonce = Bytes(random, 12);
        byte[] ad = Bytes(random, 45);
        byte[] plaintext = Bytes(random, length);

        using SodiumAead sodium = aes ? SodiumAead.Aes256Gcm(key) : SodiumAead.ChaCha20Poly1305(key);
        var ours = new byte[length];
        var ourTag = new byte[16];
        sodium.Encrypt(nonce, plaintext, ours, ourTag, ad);

        var theirs = new byte[length];
        var theirTag = new byte[16];
        DotNetEncrypt(aes, key, nonce, plaintext, theirs, theirTag, ad);
        Assert.Equal(theirs, ours);
        Assert.Equal(theirTag, ourTag);

        var opened = new byte[length];
        Assert.True(sodium.TryDecrypt(nonce, theirs, theirTag, opened, ad));
        Assert.Equal(plaintext, opened);
    }

    [Theory]
    [InlineData(true, "ciphertext")]
    [InlineData(true, "tag")]
    [InlineData(true, "ad")]
    [InlineData(true, "nonce")]
    [InlineData(false, "ciphertext")]
    [InlineData(false, "tag")]
    [InlineData(false, "ad")]
    [InlineData(false, "nonce")]
    public void A_flipped_bit_anywhere_is_refused_and_nothing_is_released(bool aes, string where)
    {
        if (aes && !SodiumAead.IsAes256GcmAvailable)
        {
            // No AES-NI/CLMUL: the key cannot be made, and the secure layer uses System.Security.Cryptography instead.
            Assert.Throws<PlatformNotSupportedException>(() => SodiumAead.Aes256Gcm(new byte[32]));
            return;
        }

        var random = new Random(7);
        using SodiumAead sodium = aes ? SodiumAead.Aes256Gcm(Bytes(random, 32)) : SodiumAead.ChaCha20Poly1305(Bytes(random, 32));
        byte[] nonce = Bytes(random, 12);
        byte[] ad = Bytes(random, 20);
        byte[] plaintext = Bytes(random, 100);
        var ciphertext = new byte[100];
        var tag = new byte[16];
        sodium.Encrypt(nonce, plaintext, ciphertext, tag, ad);

        byte[] target = where switch { "ciphertext" => ciphertext, "tag" => tag, "ad" => ad, _ => nonce };
        target[3] ^= 0x10;
        byte[] opened = Enumerable.Repeat((byte)0xAA, 100).ToArray();
        Assert.False(sodium.TryDecrypt(nonce, ciphertext, tag, opened, ad));
        Assert.All(opened, b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Seals_and_opens_in_place(bool aes)
    {
        if (aes && !SodiumAead.IsAes256GcmAvailable)
        {
            // No AES-NI/CLMUL: the key cannot be made, and the secure layer uses System.Security.Cryptography instead.
            Assert.Throws<PlatformNotSupportedException>(() => SodiumAead.Aes256Gcm(new byte[32]));
            return;
        }

        var random = new Random(11);
        byte[] key = Bytes(random, 32);
        byte[] nonce = Bytes(random, 12);
        byte[] plaintext = Bytes(random, 1024);
        using SodiumAead sodium = aes ? SodiumAead.Aes256Gcm(key) : SodiumAead.ChaCha20Poly1305(key);
        var expected = new byte[1024];
        var expectedTag = new byte[16];
        sodium.Encrypt(nonce, plaintext, expected, expectedTag, []);

        byte[] buffer = (byte[])plaintext.Clone();
        var tag = new byte[16];
        sodium.Encrypt(nonce, buffer, buffer, tag, []);
        Assert.Equal(expected, buffer);
        Assert.Equal(expectedTag, tag);

        Assert.True(sodium.TryDecrypt(nonce, buffer, tag, buffer, []));
        Assert.Equal(plaintext, buffer);
    }

    [Fact]
    public void Wrong_sizes_and_use_after_dispose_throw_instead_of_touching_memory()
    {
        var sodium = SodiumAead.ChaCha20Poly1305(new byte[32]);
        Assert.Throws<ArgumentException>(() => SodiumAead.ChaCha20Poly1305(new byte[31]));
        Assert.Throws<ArgumentException>(() => sodium.Encrypt(new byte[11], new byte[4], new byte[4], new byte[16], []));
        Assert.Throws<ArgumentException>(() => sodium.Encrypt(new byte[12], new byte[4], new byte[3], new byte[16], []));
        Assert.Throws<ArgumentException>(() => sodium.TryDecrypt(new byte[12], new byte[4], new byte[15], new byte[4], []));
        sodium.Dispose();
        sodium.Dispose();
        Assert.Throws<ObjectDisposedException>(() => sodium.Encrypt(new byte[12], new byte[4], new byte[4], new byte[16], []));
    }

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static void DotNetEncrypt(bool aes, byte[] key, byte[] nonce, byte[] plaintext, byte[] ciphertext, byte[] tag, byte[] ad)
    {
        if (aes)
        {
            using var gcm = new AesGcm(key, 16);
            gcm.Encrypt(nonce, plaintext, ciphertext, tag, ad);
        }
        else
        {
            using var chacha = new ChaCha20Poly1305(key);
            chacha.Encrypt(nonce, plaintext, ciphertext, tag, ad);
        }
    }
}
