using Conclave.Client.Secure;
using Conclave.Client.Secure.Internal;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Client.Tests.Secure;

/// <summary>The allocation-free associated data is byte for byte what the sealed format defines.</summary>
public sealed class SealedFormatTests
{
    [Theory]
    [InlineData("g", "#a#d1")]
    [InlineData("a-group-name-of-31-characters--", "#ten_chars_#nineteen_characters__")]
    [InlineData("grüße", "#ünï#d")]
    public void Written_associated_data_equals_the_defined_layout(string group, string sender)
    {
        var header = new byte[SealedFormat.HeaderSize];
        SealedFormat.WriteHeader(header, SecureAead.Aes256Gcm, signed: false, new Epoch(0x0102030405060708, 9), 77, -5);
        byte[] defined = SealedFormat.AssociatedData(header, group, sender);

        byte[] groupBytes = System.Text.Encoding.Latin1.GetBytes(group);
        Assert.Equal(defined.Length, SealedFormat.AssociatedDataLength(groupBytes.Length, sender.Length));
        Span<byte> written = stackalloc byte[SealedFormat.StackAssociatedDataSize];
        int length = SealedFormat.WriteAssociatedData(written, header, groupBytes, sender);
        Assert.Equal(defined, written[..length].ToArray());
    }
}
