using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Crypto.Tests.KeyAgreement;

/// <summary>
/// A member asks for a second refresh before its first one is delivered (a refresh timer that fires again while the
/// ring is slow or reforming): the group must still end with one key. Found end to end (SecureChurnTests): TGDH's
/// second refresh replaced the pending one, so the member applied its first broadcast to its second share and held
/// a key nobody else had under the same epoch.
/// </summary>
public sealed class RefreshRaceTests
{
    public static TheoryData<KeyAgreementProtocol, int> Cases()
    {
        var data = new TheoryData<KeyAgreementProtocol, int>();
        foreach (KeyAgreementProtocol protocol in Protocols.All)
        {
            for (int who = 0; who < 3; who++)
            {
                data.Add(protocol, who);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Two_refresh_requests_before_the_first_is_delivered_still_give_one_key(KeyAgreementProtocol protocol, int who)
    {
        using var sim = new Simulator(protocol, DhGroup.Ristretto255, 40 + who);
        List<string> names = [.. Enumerable.Range(0, 3).Select(_ => sim.Create().Name)];
        sim.Install(names);
        sim.Run();
        Checks.AllAgree(sim, "start");
        Epoch before = sim[names[0]].Module.CurrentEpoch!.Value;

        Assert.Equal(Rejection.None, sim.Refresh(names[who]).Rejection);
        // A second request while the first is still in flight: refused, or a refresh of its own; never a split key.
        Rejection second = sim.Refresh(names[who]).Rejection;
        Assert.True(second is Rejection.None or Rejection.Unexpected, $"second refresh: {second}");
        sim.Rejections.Clear();
        sim.Run();

        // A duplicate request is refused as stale or as a replay (normal, counted apart by the secure layer); nothing else.
        Assert.All(sim.Rejections, r => Assert.True(r.Why is Rejection.StaleRun or Rejection.Replay, $"{protocol}: {r}"));
        sim.Rejections.Clear();
        Checks.AllAgree(sim, $"{protocol}, refreshes by {names[who]} (second {second})");
        Assert.True(sim[names[0]].Module.CurrentEpoch!.Value.Run > before.Run, "no refresh took effect");
    }

    /// <summary>
    /// TGDH: a joiner's copy of the tree is a unicast, which agreed delivery may order after the sponsor's broadcast
    /// and after a refresh that a member already keyed sends next. Found end to end (SecureRapidChurnTests): the joiner
    /// refused the refresh as stale, keyed the old run once its tree came, and refused the others' messages as
    /// other-epoch until the next view. It now keeps the later run's messages until its own run ends.
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void A_refresh_that_overtakes_the_joiners_tree_still_gives_one_key(int size)
    {
        using var sim = new Simulator(KeyAgreementProtocol.Tgdh, DhGroup.Ristretto255, 50 + size);
        List<string> names = [.. Enumerable.Range(0, size).Select(_ => sim.Create().Name)];
        sim.Install(names);
        sim.Run();
        string joiner = sim.Create().Name;
        sim.HoldUnicasts = true;
        sim.Install([.. names, joiner]);
        while (!names.All(n => sim[n].Module.IsSettled))
        {
            Assert.True(sim.Queued > 0, "the old members never settled");
            sim.Run(1);
        }

        Assert.False(sim[joiner].Module.IsSettled, "the joiner's tree came before the others settled: no race to test");
        Assert.Equal(Rejection.None, sim.Refresh(names[0]).Rejection);
        sim.Run();

        Assert.Empty(sim.Rejections);
        Checks.AllAgree(sim, $"refresh by {names[0]} before {joiner}'s tree");
        Assert.Equal(1u, sim[joiner].Module.CurrentEpoch!.Value.Run);
    }
}
