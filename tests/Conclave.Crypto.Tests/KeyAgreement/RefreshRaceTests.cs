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
}
