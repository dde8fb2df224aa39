using System.Text;
using Conclave.Client.Secure;
using Conclave.Client.Secure.Internal;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Client.Tests.Secure;

/// <summary>
/// Refreshes that outrun a lagging sender. Under load a member sealed messages under a key two refreshes old, and
/// every member refused them as other-epoch (SecureRapidChurnTests, TGDH seed 3, a loaded 2-core machine): only one
/// earlier key of the view was kept. Now every key of the view opens what was sealed under it until each member
/// has sealed under a newer one (at most <see cref="SecureGroupCore.MaxEarlierKeysInView"/> are kept).
/// </summary>
public sealed class RefreshLagTests
{
    private static readonly string[] Members = ["#a#d", "#b#d", "#c#d"];

    public static TheoryData<KeyAgreementProtocol> Protocols() => new() { KeyAgreementProtocol.Gdh, KeyAgreementProtocol.Ckd, KeyAgreementProtocol.Tgdh };

    [Theory]
    [MemberData(nameof(Protocols))]
    public void A_message_sealed_two_refreshes_back_is_opened_by_every_member(KeyAgreementProtocol protocol)
    {
        using var harness = new CoreHarness(Members);
        harness.InstallView(protocol, MembershipCause.Join, Members);
        byte[] late = harness.Cores["#b#d"].Seal(1, "late"u8)!;

        Refresh(harness);
        Refresh(harness);

        foreach (string m in Members)
        {
            SecureMessage opened = Assert.IsType<SecureMessage>(Assert.Single(harness.DeliverData("#b#d", late, m)));
            Assert.Equal("late", Encoding.ASCII.GetString(opened.Body.Span));
            Assert.Equal(0, harness.Cores[m].Counters.OtherEpoch);
        }
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public void An_earlier_key_goes_once_every_member_has_sealed_under_a_newer_one(KeyAgreementProtocol protocol)
    {
        using var harness = new CoreHarness(Members);
        harness.InstallView(protocol, MembershipCause.Join, Members);
        // Delivered out of its sender's order below, only to show whether its key is still held.
        byte[] held = harness.Cores["#c#d"].Seal(1, "held"u8)!;
        Refresh(harness);
        Refresh(harness);

        foreach (string sender in Members)
        {
            Assert.IsType<SecureMessage>(Assert.Single(harness.DeliverData(sender, harness.Cores[sender].Seal(1, "new"u8)!, "#a#d")));
        }

        // Its key is gone (other epoch); were it kept, the message would be refused as a replay instead.
        Assert.Empty(harness.DeliverData("#c#d", held, "#a#d"));
        Assert.Equal(1, harness.Cores["#a#d"].Counters.OtherEpoch);
        Assert.Equal(0, harness.Cores["#a#d"].Counters.Replays);
    }

    [Fact]
    public void A_silent_member_keeps_at_most_the_cap_of_earlier_keys()
    {
        using var harness = new CoreHarness(Members);
        harness.InstallView(KeyAgreementProtocol.Tgdh, MembershipCause.Join, Members);
        byte[] tooOld = harness.Cores["#b#d"].Seal(1, "too-old"u8)!;
        Refresh(harness);
        byte[] oldestKept = harness.Cores["#b#d"].Seal(1, "oldest-kept"u8)!;
        for (int i = 0; i < SecureGroupCore.MaxEarlierKeysInView; i++)
        {
            Refresh(harness);
        }

        Assert.Empty(harness.DeliverData("#b#d", tooOld, "#a#d"));
        Assert.Equal(1, harness.Cores["#a#d"].Counters.OtherEpoch);
        Assert.IsType<SecureMessage>(Assert.Single(harness.DeliverData("#b#d", oldestKept, "#a#d")));
    }

    /// <summary>One refresh asked of the first member, run to the end: every member installs one new key.</summary>
    private static void Refresh(CoreHarness harness)
    {
        long[] before = [.. Members.Select(m => harness.Cores[m].Counters.KeysInstalled)];
        Assert.True(harness.Cores[Members[0]].RequestRefresh(), "the refresh was refused");
        harness.Pump(Members);
        for (int i = 0; i < Members.Length; i++)
        {
            SecureView view = Assert.IsType<SecureView>(Assert.Single(CoreHarness.Drain(harness.Cores[Members[i]])));
            Assert.Equal([SecureKeyEvent.Refresh], view.Events);
            Assert.Equal(before[i] + 1, harness.Cores[Members[i]].Counters.KeysInstalled);
        }
    }
}
