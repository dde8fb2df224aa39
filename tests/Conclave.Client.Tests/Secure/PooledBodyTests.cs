using System.Text;
using Conclave.Client.Secure;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Client.Tests.Secure;

/// <summary>
/// <see cref="SecureGroupOptions.PooledMessageBodies"/>: bodies decrypted into pooled buffers that a disposed message
/// gives back. Every message still arrives intact, and replays and forgeries are still refused.
/// </summary>
public sealed class PooledBodyTests : IDisposable
{
    private readonly CoreHarness _harness = new("#a#d", "#b#d");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_message_arrives_intact_while_disposed_bodies_go_back_to_the_pool(bool signed)
    {
        Install(signed);
        var rng = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            byte[] body = new byte[rng.Next(0, 3000)];
            rng.NextBytes(body);
            SecureMessage m = Deliver(body);
            Assert.Equal(body, m.Body.ToArray());
            Assert.Equal(5, m.MessageType);
            Assert.Equal("#a#d", m.Sender);
            m.Dispose();
            Assert.True(m.Body.IsEmpty);
            m.Dispose();
        }

        Assert.Equal(0, _harness.Cores["#b#d"].Counters.Forged + _harness.Cores["#b#d"].Counters.Replays + _harness.Cores["#b#d"].Counters.BadSignature);
    }

    [Fact]
    public void A_message_kept_undisposed_keeps_its_body_while_later_ones_come_and_go()
    {
        Install(signed: false);
        SecureMessage kept = Deliver("kept"u8.ToArray());
        for (int i = 0; i < 50; i++)
        {
            using SecureMessage m = Deliver(Encoding.ASCII.GetBytes($"other {i}"));
            Assert.Equal($"other {i}", Encoding.ASCII.GetString(m.Body.Span));
        }

        Assert.Equal("kept", Encoding.ASCII.GetString(kept.Body.Span));
    }

    [Fact]
    public void Replays_and_forgeries_are_refused_with_pooled_bodies()
    {
        Install(signed: false);
        byte[] one = _harness.Cores["#a#d"].Seal(1, "one"u8)!;
        byte[] two = _harness.Cores["#a#d"].Seal(1, "two"u8)!;
        using (SecureMessage m = Assert.IsType<SecureMessage>(Assert.Single(_harness.DeliverData("#a#d", two, "#b#d"))))
        {
            Assert.Equal("two", Encoding.ASCII.GetString(m.Body.Span));
        }

        Assert.Empty(_harness.DeliverData("#a#d", one, "#b#d"));
        Assert.Empty(_harness.DeliverData("#a#d", two, "#b#d"));
        byte[] tampered = _harness.Cores["#a#d"].Seal(1, "three"u8)!;
        tampered[^20] ^= 1;
        Assert.Empty(_harness.DeliverData("#a#d", tampered, "#b#d"));
        Assert.Equal(2, _harness.Cores["#b#d"].Counters.Replays);
        Assert.Equal(1, _harness.Cores["#b#d"].Counters.Forged);

        // The refused attempts left nothing behind: the next genuine message opens.
        using SecureMessage four = Assert.IsType<SecureMessage>(Assert.Single(_harness.DeliverData("#a#d", _harness.Cores["#a#d"].Seal(1, "four"u8)!, "#b#d")));
        Assert.Equal("four", Encoding.ASCII.GetString(four.Body.Span));
    }

    [Fact]
    public void Without_the_option_disposing_leaves_the_body_as_it_was()
    {
        using var harness = new CoreHarness("#a#d", "#b#d");
        harness.InstallView(KeyAgreementProtocol.Gdh, MembershipCause.Join, "#a#d", "#b#d");
        SecureMessage m = Assert.IsType<SecureMessage>(Assert.Single(harness.DeliverData("#a#d", harness.Cores["#a#d"].Seal(1, "mine"u8)!, "#b#d")));
        m.Dispose();
        Assert.Equal("mine", Encoding.ASCII.GetString(m.Body.Span));
    }

    public void Dispose() => _harness.Dispose();

    private void Install(bool signed) =>
        _harness.InstallView(KeyAgreementProtocol.Gdh, MembershipCause.Join, o => o with { PooledMessageBodies = true, SignMessages = signed }, "#a#d", "#b#d");

    private SecureMessage Deliver(byte[] body) =>
        Assert.IsType<SecureMessage>(Assert.Single(_harness.DeliverData("#a#d", _harness.Cores["#a#d"].Seal(5, body)!, "#b#d")));
}
