namespace Conclave.Protocol.Simulation;

/// <summary>A scripted or random fault schedule. It boots the daemons, starts load and schedules faults and the heal.</summary>
internal interface ISimScenario
{
    string Name { get; }

    /// <summary>Schedules everything on <paramref name="sim"/>; returns the time at which the run ends.</summary>
    long Setup(Simulator sim);
}

/// <summary>
/// The random campaign's scenario: faults of the configured kinds at exponential intervals during the
/// fault period, then a full heal (links, loss, restarts) and a quiet settle period.
/// </summary>
internal sealed class RandomFaultScenario : ISimScenario
{
    public string Name => "random";

    public long Setup(Simulator sim)
    {
        SimulationConfig c = sim.Config;
        SimRandom rng = sim.Scenario;
        sim.BootAll();
        sim.StartLoad(0);
        sim.LoadUntil = c.FaultPeriodUs;
        var kinds = new List<FaultKinds>();
        foreach (FaultKinds k in new[] { FaultKinds.Partitions, FaultKinds.Crashes, FaultKinds.Restarts, FaultKinds.OneWay, FaultKinds.Pauses, FaultKinds.LossBursts })
        {
            if ((c.Faults & k) != 0) kinds.Add(k);
        }
        long t = 300_000;
        while (kinds.Count > 0)
        {
            t += 100_000 + rng.Exponential(700_000);
            if (t > c.FaultPeriodUs - 300_000) break;
            FaultKinds kind = kinds[rng.Next(kinds.Count)];
            long duration = rng.Range(100_000, 2_500_000);
            long end = Math.Min(t + duration, c.FaultPeriodUs);
            switch (kind)
            {
                case FaultKinds.Partitions:
                    sim.At(t, () => RandomPartition(sim, rng));
                    sim.At(end, sim.HealNetwork);
                    break;
                case FaultKinds.Crashes:
                    sim.At(t, () =>
                    {
                        uint[] up = [.. sim.NodeIds.Where(sim.IsUp)];
                        if (up.Length > 1) sim.Crash(up[rng.Next(up.Length)]);
                    });
                    break;
                case FaultKinds.Restarts:
                    sim.At(t, () =>
                    {
                        uint[] down = [.. sim.NodeIds.Where(n => !sim.IsUp(n))];
                        if (down.Length > 0) sim.Boot(down[rng.Next(down.Length)], keepRingSeq: true);
                    });
                    break;
                case FaultKinds.OneWay:
                    uint a = (uint)rng.Range(1, c.Daemons + 1), b = (uint)rng.Range(1, c.Daemons + 1);
                    if (a != b)
                    {
                        sim.At(t, () => sim.SetLink(a, b, false));
                        sim.At(end, () => sim.SetLink(a, b, true));
                    }
                    break;
                case FaultKinds.Pauses:
                    uint p = (uint)rng.Range(1, c.Daemons + 1);
                    long d = rng.Range(20_000, 600_000);
                    sim.At(t, () => sim.Pause(p, d));
                    break;
                case FaultKinds.LossBursts:
                    sim.At(t, () => sim.Loss = Math.Min(0.6, c.Loss + 0.25));
                    sim.At(end, () => sim.Loss = c.Loss);
                    break;
            }
        }
        sim.At(c.FaultPeriodUs, sim.HealAll);
        return c.FaultPeriodUs + c.SettleUs;
    }

    private static void RandomPartition(Simulator sim, SimRandom rng)
    {
        int k = sim.Count;
        int parts = k >= 4 && rng.Chance(0.25) ? 3 : 2;
        var groups = new List<uint>[parts];
        for (int i = 0; i < parts; i++) groups[i] = [];
        foreach (uint n in sim.NodeIds) groups[rng.Next(parts)].Add(n);
        sim.Partition([.. groups.Select(g => g.ToArray())]);
        if (k >= 3 && rng.Chance(0.2))
        {
            // Intransitive reachability: cut one pair inside a group both ways.
            uint x = (uint)rng.Range(1, k + 1), y = (uint)rng.Range(1, k + 1);
            if (x != y)
            {
                sim.SetLink(x, y, false);
                sim.SetLink(y, x, false);
            }
        }
    }
}
