using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Crypto.Tests.KeyAgreement;

/// <summary>Seeded random sequences of joins, leaves, merges, partitions and refreshes, for each protocol and group.</summary>
public sealed class PropertyTests
{
    public static TheoryData<KeyAgreementProtocol, string, int, int, int> Cases()
    {
        var data = new TheoryData<KeyAgreementProtocol, string, int, int, int>();
        foreach (KeyAgreementProtocol protocol in Protocols.All)
        {
            // ristretto255: broad runs; MODP: short runs over few members (each operation costs milliseconds).
            foreach (int seed in new[] { 1, 2, 3, 4, 5, 6 })
            {
                data.Add(protocol, "ristretto255", seed, 40, 12);
            }

            data.Add(protocol, "modp512", 11, protocol == KeyAgreementProtocol.Tgdh ? 8 : 12, 5);
            data.Add(protocol, "modp2048", 12, 4, 3);
            data.Add(protocol, "modp3072", 13, 3, 3);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Random_membership_events_keep_one_fresh_key_per_view(KeyAgreementProtocol protocol, string groupName, int seed, int steps, int maxMembers) =>
        RandomEvents(protocol, groupName, seed, steps, maxMembers, _ => { });

    /// <summary>GDH controllers preparing their next share between changes (as SecureConnection runs it), finished or not when the change comes.</summary>
    [Theory]
    [InlineData("ristretto255", 21, true)]
    [InlineData("ristretto255", 22, true)]
    [InlineData("ristretto255", 23, false)]
    [InlineData("modp512", 24, true)]
    public void Random_membership_events_keep_one_fresh_key_per_view_with_prepared_controller_shares(string groupName, int seed, bool finished) =>
        RandomEvents(KeyAgreementProtocol.Gdh, groupName, seed, groupName == "ristretto255" ? 40 : 12, groupName == "ristretto255" ? 12 : 5, sim =>
        {
            sim.Precompute = true;
            sim.PrecomputeNeverFinishes = !finished;
        });

    private static void RandomEvents(KeyAgreementProtocol protocol, string groupName, int seed, int steps, int maxMembers, Action<Simulator> configure)
    {
        DhGroup group = DhGroup.FromName(groupName);
        using var sim = new Simulator(protocol, group, seed);
        configure(sim);
        var random = new Random(seed);
        sim.Install([sim.Create().Name]);
        sim.Run();
        Checks.AllAgree(sim, $"seed {seed} start");

        for (int step = 0; step < steps; step++)
        {
            Dictionary<string, byte[]> keyBefore = sim.Components.SelectMany(c => c)
                .ToDictionary(n => n, n => sim[n].Module().LastKey!.ToArray());
            Dictionary<string, List<string>> componentBefore = sim.Components.SelectMany(c => c.Select(n => (n, c)))
                .ToDictionary(p => p.n, p => p.c.ToList());
            List<string> affected = [];
            string description = ApplyRandomEvent(sim, random, maxMembers, affected);
            string context = $"{protocol}/{groupName} seed {seed} step {step} ({description})";
            sim.ResetMeasurement();
            sim.Run();
            Checks.AllAgree(sim, context);

            foreach (List<string> component in sim.Components)
            {
                byte[] digest = sim[component[0]].Module().LastElementDigest!;
                foreach (string name in component)
                {
                    // Every event changes the key of every member that had one.
                    if (affected.Contains(name) && keyBefore.TryGetValue(name, out byte[]? before))
                    {
                        Assert.False(before.AsSpan().SequenceEqual(sim[name].Module().LastKey), $"{context}: key of {name} unchanged");
                    }
                }

                // Members who were with someone before but are not with them now cannot reach the new secret.
                var outsiders = componentBefore.Where(p => p.Value.Intersect(component).Any() && !component.Contains(p.Key)).Select(p => p.Key);
                foreach (string outsider in outsiders)
                {
                    Checks.CannotDerive(sim[outsider], digest, sim.Broadcasts, group, $"{context}: removed {outsider}");
                }

                // Members who were not with the component's old members cannot reach those members' previous secret.
                foreach (string name in component)
                {
                    if (!componentBefore.TryGetValue(name, out List<string>? old) || old.Count < 2)
                    {
                        continue;
                    }

                    byte[] oldDigest = sim[name].Module().LastElementDigestBefore ?? [];
                    foreach (string newcomer in component.Where(n => !old.Contains(n)))
                    {
                        Checks.CannotDerive(sim[newcomer], oldDigest, [], group, $"{context}: added {newcomer} vs old key of {name}");
                    }
                }
            }
        }
    }

    internal static string ApplyRandomEvent(Simulator sim, Random random, int maxMembers, List<string> affected)
    {
        int total = sim.Components.Sum(c => c.Count);
        List<string> component = sim.Components[random.Next(sim.Components.Count)];
        affected.AddRange(component);
        while (true)
        {
            switch (random.Next(7))
            {
                case 0 or 1 when total < maxMembers:
                {
                    string joiner = sim.Create().Name;
                    sim.Install([.. component, joiner]);
                    return $"join {joiner}";
                }

                case 2 when total + 2 <= maxMembers:
                {
                    int count = 2 + random.Next(Math.Min(2, maxMembers - total - 1));
                    var joiners = Enumerable.Range(0, count).Select(_ => sim.Create().Name).ToList();
                    sim.Install([.. component, .. joiners]);
                    return $"mass join {string.Join(",", joiners)}";
                }

                case 3 when component.Count > 1:
                {
                    var leavers = component.OrderBy(_ => random.Next()).Take(1 + random.Next(Math.Max(1, component.Count / 3))).ToList();
                    if (leavers.Count == component.Count)
                    {
                        leavers.RemoveAt(0);
                    }

                    sim.Install(component.Except(leavers));
                    return $"leave {string.Join(",", leavers)}";
                }

                case 4 when component.Count > 1:
                {
                    var shuffled = component.OrderBy(_ => random.Next()).ToList();
                    int cut = 1 + random.Next(component.Count - 1);
                    sim.InstallAll([shuffled.Take(cut), shuffled.Skip(cut)]);
                    return $"partition {string.Join(",", shuffled.Take(cut))} | {string.Join(",", shuffled.Skip(cut))}";
                }

                case 5 when sim.Components.Count > 1:
                {
                    List<string> other = sim.Components.First(c => c != component);
                    affected.AddRange(other);
                    sim.Install([.. component, .. other]);
                    return $"merge [{string.Join(",", component)}] + [{string.Join(",", other)}]";
                }

                case 6:
                {
                    string who = component[random.Next(component.Count)];
                    bool settled = sim[who].Module.IsSettled;
                    StepResult result = sim.Refresh(who);
                    Assert.Equal(settled ? Rejection.None : Rejection.Unexpected, result.Rejection);
                    sim.Rejections.RemoveAll(r => r.Member == who && !settled);
                    return $"refresh by {who}";
                }
            }
        }
    }
}
