using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Crypto.Tests.KeyAgreement;

/// <summary>
/// Views reached from disagreeing previous views: part of a component moves on (alone, or into another component)
/// while the rest is left behind with no view of its own, still holding the old state; later the two meet again in
/// one view, at random points of key agreement runs. The host tells each member who came along with it (the Flush
/// layer's vs-set); the modules must treat everyone else as new, and still converge.
/// </summary>
public sealed class DisagreeingViewsTests
{
    private const int MaxMembers = 8;

    public static TheoryData<KeyAgreementProtocol, int> Cases()
    {
        var data = new TheoryData<KeyAgreementProtocol, int>();
        foreach (KeyAgreementProtocol protocol in Protocols.All)
        {
            for (int seed = 1; seed <= 12; seed++)
            {
                data.Add(protocol, seed);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Members_meeting_again_from_disagreeing_previous_views_converge(KeyAgreementProtocol protocol, int seed)
    {
        using var sim = new Simulator(protocol, DhGroup.Ristretto255, seed);
        var random = new Random(seed);
        sim.Install(Enumerable.Range(0, 5).Select(_ => sim.Create().Name).ToList());
        sim.Run();
        Checks.AllAgree(sim, $"{protocol} seed {seed} start");
        int cut = 0;
        for (int step = 0; step < 16; step++)
        {
            sim.ResetMeasurement();
            string description = random.Next(3) == 0
                ? PropertyTests.ApplyRandomEvent(sim, random, MaxMembers, [])
                : Detour(sim, random, ref cut);
            string context = $"{protocol} seed {seed} step {step} ({description})";
            sim.Run();
            Assert.All(sim.Rejections, r => Assert.True(r.Why is Rejection.StaleView or Rejection.StaleRun, $"{context}: {r}"));
            sim.Rejections.Clear();
            Checks.AllAgree(sim, context);

            // Nobody outside a component can reach its secret, however stale the state it kept.
            foreach (List<string> component in sim.Components)
            {
                byte[] digest = sim[component[0]].Module().LastElementDigest!;
                foreach (SimulatedMember outsider in sim.Members.Where(m => !component.Contains(m.Name)))
                {
                    Checks.CannotDerive(outsider, digest, sim.Broadcasts, DhGroup.Ristretto255, $"{context}: {outsider.Name} outside [{string.Join(",", component)}]");
                }
            }
        }

        Assert.True(cut > 2, $"{protocol} seed {seed}: only {cut} runs were cut short by a detour");
    }

    /// <summary>
    /// Some members of a component move on (alone or into another component) while the others get no view; after a
    /// random part of the movers' run, the ones left behind meet them again (sometimes after a view of their own).
    /// </summary>
    private static string Detour(Simulator sim, Random random, ref int cut)
    {
        List<string>? from = sim.Components.Where(c => c.Count > 1).OrderBy(_ => random.Next()).FirstOrDefault();
        if (from is null)
        {
            return PropertyTests.ApplyRandomEvent(sim, random, MaxMembers, []);
        }

        var shuffled = from.OrderBy(_ => random.Next()).ToList();
        int moving = 1 + random.Next(from.Count - 1);
        List<string> movers = shuffled.Take(moving).ToList();
        List<string> behind = shuffled.Skip(moving).ToList();
        List<string>? other = random.Next(2) == 0 ? sim.Components.FirstOrDefault(c => c != from) : null;
        sim.Install([.. movers, .. other ?? []]);
        string description = $"[{string.Join(",", movers)}] moved to [{string.Join(",", other ?? [])}], [{string.Join(",", behind)}] left behind";
        cut += RunPart(sim, random);
        if (random.Next(3) == 0)
        {
            // The ones left behind see their own view first, cut short or not.
            sim.Install(behind);
            cut += RunPart(sim, random);
            description += ", saw their own view";
        }

        List<string> moversNow = sim.Components.First(c => c.Contains(movers[0]));
        sim.Install([.. moversNow, .. behind]);
        return description + $", met again in [{string.Join(",", moversNow.Concat(behind))}]";
    }

    /// <summary>Delivers part of what is queued; 1 if that left a run unfinished.</summary>
    private static int RunPart(Simulator sim, Random random)
    {
        if (sim.Queued == 0 || random.Next(3) == 0)
        {
            return 0;
        }

        sim.Run(random.Next(0, sim.Queued));
        return sim.Components.Any(c => c.Any(n => !sim[n].Module.IsSettled)) ? 1 : 0;
    }
}
