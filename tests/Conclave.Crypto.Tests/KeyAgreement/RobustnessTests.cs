using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Crypto.Tests.KeyAgreement;

/// <summary>Cascaded events: a new view arrives while a run is under way; the module restarts and the group still converges.</summary>
public sealed class RobustnessTests
{
    public static TheoryData<KeyAgreementProtocol, int> Cases()
    {
        var data = new TheoryData<KeyAgreementProtocol, int>();
        foreach (KeyAgreementProtocol protocol in Protocols.All)
        {
            foreach (int seed in new[] { 21, 22, 23, 24 })
            {
                data.Add(protocol, seed);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Views_arriving_mid_run_restart_the_agreement(KeyAgreementProtocol protocol, int seed)
    {
        using var sim = new Simulator(protocol, DhGroup.Ristretto255, seed);
        var random = new Random(seed);
        sim.Install(Enumerable.Range(0, 3).Select(_ => sim.Create().Name).ToList());
        sim.Run();
        Checks.AllAgree(sim, $"seed {seed} start");
        int interrupted = 0;
        for (int step = 0; step < 30; step++)
        {
            string description = PropertyTests.ApplyRandomEvent(sim, random, 10, []);
            if (random.Next(2) == 0 && sim.Queued > 0)
            {
                // Deliver part of the run, then cut it short with another event.
                sim.Run(random.Next(1, 1 + sim.Queued));
                if (sim.Components.Any(c => c.Any(n => !sim[n].Module.IsSettled)))
                {
                    interrupted++;
                }

                description += " + " + PropertyTests.ApplyRandomEvent(sim, random, 10, []);
            }

            sim.Run();
            // Messages of an abandoned run arrive after the next view and must be refused as stale, nothing else.
            Assert.All(sim.Rejections, r => Assert.True(r.Why is Rejection.StaleView or Rejection.StaleRun, $"{protocol} seed {seed} step {step} ({description}): {r}"));
            sim.Rejections.Clear();
            Checks.AllAgree(sim, $"{protocol} seed {seed} step {step} ({description})");
        }

        Assert.True(interrupted > 3, $"seed {seed}: only {interrupted} runs were interrupted");
    }
}
