using System.Text;
using Conclave.Client.Secure;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Client.Tests.Secure;

/// <summary>Per-group choices of the secure core: AEAD suite, per-message signatures, trust policy, refresh, Table 1 events.</summary>
public sealed class SecureGroupOptionsTests : IDisposable
{
    private readonly CoreHarness _h = new("#a#d", "#b#d", "#c#d", "#x#d");

    public void Dispose() => _h.Dispose();

    [Theory]
    [InlineData(SecureAead.Aes256Gcm, false)]
    [InlineData(SecureAead.ChaCha20Poly1305, false)]
    [InlineData(SecureAead.ChaCha20Poly1305, true)]
    public void Each_suite_with_or_without_signatures_round_trips_and_hides_the_plaintext(SecureAead suite, bool sign)
    {
        _h.InstallView(KeyAgreementProtocol.Tgdh, MembershipCause.Join, o => o with { Aead = suite, SignMessages = sign }, "#a#d", "#b#d");
        byte[] sealedMessage = _h.Cores["#a#d"].Seal(3, "attack at dawn"u8)!;
        Assert.Equal((byte)suite, sealedMessage[1]);
        Assert.True(sealedMessage.AsSpan().IndexOf("attack"u8) < 0);
        Assert.Equal(25 + 14 + 16 + (sign ? 64 : 0), sealedMessage.Length);
        SecureMessage m = Assert.IsType<SecureMessage>(Assert.Single(_h.DeliverData("#a#d", sealedMessage, "#b#d")));
        Assert.Equal("attack at dawn", Encoding.ASCII.GetString(m.Body.Span));
    }

    [Fact]
    public void A_suite_mismatch_is_refused_as_forged()
    {
        _h.InstallView(KeyAgreementProtocol.Gdh, MembershipCause.Join, "#a#d", "#b#d");
        byte[] sealedMessage = _h.Cores["#a#d"].Seal(3, "x"u8)!;
        sealedMessage[1] = (byte)SecureAead.ChaCha20Poly1305;
        Assert.Empty(_h.DeliverData("#a#d", sealedMessage, "#b#d"));
        Assert.Equal(1, _h.Cores["#b#d"].Counters.Forged);
    }

    [Fact]
    public void An_insider_cannot_pass_off_a_message_as_another_members_when_signatures_are_on()
    {
        _h.InstallView(KeyAgreementProtocol.Ckd, MembershipCause.Join, o => o with { SignMessages = true }, "#a#d", "#b#d", "#c#d");

        // c holds the group key, so it can seal a message that claims a's name; only a's signature is missing.
        byte[] forged = _h.Cores["#c#d"].Seal(1, "from a, honest"u8)!;
        Assert.Empty(_h.DeliverData("#a#d", forged, "#b#d"));
        Assert.Equal(1, _h.Cores["#b#d"].Counters.Forged + _h.Cores["#b#d"].Counters.BadSignature);

        byte[] genuine = _h.Cores["#a#d"].Seal(1, "from a"u8)!;
        Assert.Single(_h.DeliverData("#a#d", genuine, "#b#d"));
    }

    [Theory]
    [InlineData(KeyAgreementProtocol.Gdh)]
    [InlineData(KeyAgreementProtocol.Ckd)]
    [InlineData(KeyAgreementProtocol.Tgdh)]
    public void A_member_the_trust_policy_does_not_allow_is_left_out_of_the_key_and_reported(KeyAgreementProtocol protocol)
    {
        TrustPolicy trust = TrustPolicy.AllowKeys([_h.PublicKey("#a#d"), _h.PublicKey("#b#d"), _h.PublicKey("#c#d")]);
        string[] trusted = ["#a#d", "#b#d", "#c#d"];
        Dictionary<string, List<SecureEvent>> events = _h.InstallView(protocol, MembershipCause.Join, o => o with { Trust = trust }, [.. trusted, "#x#d"]);

        SecureView[] views = [.. trusted.Select(m => Assert.IsType<SecureView>(Assert.Single(events[m])))];
        Assert.All(views, v => Assert.Equal(trusted, v.Members));
        Assert.All(views, v => Assert.Equal(["#x#d"], v.Excluded));
        Assert.All(views, v => Assert.Equal(views[0].KeyFingerprint, v.KeyFingerprint));

        // x trusts itself and runs, but nobody answers it: it never gets a key and cannot read the group.
        Assert.Empty(events["#x#d"]);
        Assert.False(_h.Cores["#x#d"].HasKey);
        byte[] sealedMessage = _h.Cores["#a#d"].Seal(1, "not for x"u8)!;
        Assert.Empty(_h.DeliverData("#a#d", sealedMessage, "#x#d"));
        Assert.Single(_h.DeliverData("#a#d", sealedMessage, "#c#d"));
    }

    [Theory]
    [InlineData(KeyAgreementProtocol.Gdh, "#a#d")]
    [InlineData(KeyAgreementProtocol.Gdh, "#c#d")]
    [InlineData(KeyAgreementProtocol.Ckd, "#b#d")]
    [InlineData(KeyAgreementProtocol.Tgdh, "#b#d")]
    public void A_refresh_gives_everyone_a_new_key_and_messages_sealed_under_the_old_one_still_open(KeyAgreementProtocol protocol, string asker)
    {
        string[] members = ["#a#d", "#b#d", "#c#d"];
        Dictionary<string, List<SecureEvent>> first = _h.InstallView(protocol, MembershipCause.Join, members);
        IReadOnlyList<byte> before = ((SecureView)first["#a#d"][0]).KeyFingerprint;
        byte[] inFlight = _h.Cores["#c#d"].Seal(1, "old key"u8)!;

        Assert.True(_h.Cores[asker].RequestRefresh());
        _h.Pump(members);
        SecureView[] views = [.. members.Select(m => Assert.IsType<SecureView>(Assert.Single(CoreHarness.Drain(_h.Cores[m]))))];
        Assert.All(views, v => Assert.Equal([SecureKeyEvent.Refresh], v.Events));
        Assert.All(views, v => Assert.Equal(views[0].KeyFingerprint, v.KeyFingerprint));
        Assert.NotEqual(before, views[0].KeyFingerprint);
        Assert.NotEqual(((SecureView)first["#a#d"][0]).Epoch, views[0].Epoch);

        Assert.Single(_h.DeliverData("#c#d", inFlight, "#a#d"));
        byte[] fresh = _h.Cores["#c#d"].Seal(1, "new key"u8)!;
        Assert.Single(_h.DeliverData("#c#d", fresh, "#a#d"));
    }

    [Fact]
    public void Key_events_follow_table_1()
    {
        static SecureView View(Dictionary<string, List<SecureEvent>> e, string m) => Assert.IsType<SecureView>(Assert.Single(e[m]));

        Assert.Equal([SecureKeyEvent.Join], View(_h.InstallView(KeyAgreementProtocol.Gdh, MembershipCause.Join, "#a#d", "#b#d"), "#a#d").Events);
        SecureView join = View(_h.InstallView(KeyAgreementProtocol.Gdh, MembershipCause.Join, "#a#d", "#b#d", "#c#d"), "#a#d");
        Assert.Equal([SecureKeyEvent.Join], join.Events);
        Assert.Equal(["#c#d"], join.Joined);
        SecureView leave = View(_h.InstallView(KeyAgreementProtocol.Gdh, MembershipCause.Disconnect, "#a#d", "#b#d"), "#a#d");
        Assert.Equal([SecureKeyEvent.Leave], leave.Events);
        Assert.Equal(["#c#d"], leave.Left);
        Assert.Equal([SecureKeyEvent.Leave], View(_h.InstallView(KeyAgreementProtocol.Gdh, MembershipCause.Network, "#a#d"), "#a#d").Events);
        Assert.Equal([SecureKeyEvent.Merge], View(_h.InstallView(KeyAgreementProtocol.Gdh, MembershipCause.Network, "#a#d", "#b#d"), "#a#d").Events);
        SecureView both = View(_h.InstallView(KeyAgreementProtocol.Gdh, MembershipCause.Network, "#a#d", "#x#d"), "#a#d");
        Assert.Equal([SecureKeyEvent.Leave, SecureKeyEvent.Merge], both.Events);
    }

    [Fact]
    public void A_transitional_signal_stops_sealing_until_the_next_view_has_its_key()
    {
        _h.InstallView(KeyAgreementProtocol.Gdh, MembershipCause.Join, "#a#d", "#b#d");
        Assert.NotNull(_h.Cores["#a#d"].Seal(1, "x"u8));
        _h.Cores["#a#d"].Handle(new Conclave.Client.Flush.FlushTransitionalSignal(CoreHarness.Group));
        Assert.Null(_h.Cores["#a#d"].Seal(1, "x"u8));
        Assert.Null(_h.Cores["#a#d"].KeyedView);
        _h.InstallView(KeyAgreementProtocol.Gdh, MembershipCause.Network, "#a#d");
        Assert.NotNull(_h.Cores["#a#d"].Seal(1, "x"u8));
    }
}
