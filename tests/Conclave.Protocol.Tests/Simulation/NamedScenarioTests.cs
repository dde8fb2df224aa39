using Conclave.Protocol.Ring;
using Conclave.Protocol.Simulation;
using Conclave.Protocol.Tracing;

namespace Conclave.Protocol.Tests.Simulation;

/// <summary>The named scenarios of ring-protocol.md §6.3, each under a few fixed seeds.</summary>
public sealed class NamedScenarioTests
{
    private static SimulationConfig Config(ulong seed) => new() { Daemons = 5, Seed = seed, SendRate = 150, SettleUs = 3_000_000 };

    private static (SimulationResult Result, NamedScenario Scenario) Run(string name, ulong seed)
    {
        var scenario = (NamedScenario)NamedScenarios.Create().Single(s => s.Name == name);
        SimulationResult result = SimulationRunner.Run(Config(seed), scenario, keepTrace: true);
        return (result, scenario);
    }

    private static void AssertClean(SimulationResult r)
    {
        Assert.True(r.Violations.Count == 0, $"scenario {r.Scenario} seed {r.Seed}: {r.Violations.Count} violations, first {(r.Violations.Count > 0 ? r.Violations[0] : null)}; replay: conclave sim --scenario {r.Scenario} --seed {r.Seed} --daemons 5 --trace");
        Assert.True(r.ConvergenceUs >= 0);
        Assert.True(r.Delivered > 0);
    }

    public static TheoryData<string, ulong> Cases()
    {
        var data = new TheoryData<string, ulong>();
        foreach (ISimScenario s in NamedScenarios.Create())
        {
            if (s.Name.EndsWith("-NoSeq", StringComparison.Ordinal)) continue;
            for (ulong seed = 1; seed <= 3; seed++) data.Add(s.Name, seed);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Named_scenario_satisfies_every_property(string name, ulong seed) => AssertClean(Run(name, seed).Result);

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    public void TokenLostDuringCommit_never_installs_the_failed_ring_and_retries_with_a_higher_seq(ulong seed)
    {
        (SimulationResult r, NamedScenario s) = Run("TokenLostDuringCommit", seed);
        AssertClean(r);
        Assert.True(s.Observed.TryGetValue("FailedRingSeq", out long failed), "the commit token was never dropped");
        List<TraceEvent> confs = [.. r.Trace!.Where(e => e.Kind == TraceKind.Conf)];
        var failedRing = new RingId((uint)s.Observed["FailedRingRep"], (ulong)failed);
        Assert.DoesNotContain(confs, e => e.Conf.Ring == failedRing);
        Assert.Contains(confs, e => e.Conf.Kind == ConfKind.Regular && e.Conf.Ring.Seq > (ulong)failed && !e.Members!.Contains(4u));
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    public void HoleThenSenderLeaves_skips_messages_of_the_departed_sender_after_the_hole(ulong seed)
    {
        (SimulationResult r, NamedScenario s) = Run("HoleThenSenderLeaves", seed);
        AssertClean(r);
        long holeSeq = s.Observed["HoleSeq"];
        ulong holeRing = (ulong)s.Observed["HoleRingSeq"];
        List<TraceEvent> transDeliveries = [.. r.Trace!.Where(e => e.Kind == TraceKind.Deliver && e.Node != 3 && e.Ring.Seq == holeRing && e.Conf.Kind == ConfKind.Transitional)];
        Assert.DoesNotContain(transDeliveries, e => e.Message.Node == 3 && e.Seq > (ulong)holeSeq);
        Assert.DoesNotContain(r.Trace!, e => e.Kind == TraceKind.Deliver && e.Node != 3 && e.Ring.Seq == holeRing && e.Seq == (ulong)holeSeq);
        Assert.Contains(r.Trace!, e => e.Kind == TraceKind.Conf && e.Node == 1 && e.Conf.Kind == ConfKind.Transitional && !e.Members!.Contains(3u) && e.Conf.Old.Seq == holeRing);
    }

    [Fact]
    public void RestartBeforeDetection_without_the_persisted_seq_is_detected()
    {
        (SimulationResult r, _) = Run("RestartBeforeDetection-NoSeq", 1);
        Assert.Contains(r.Violations, v => v.Property == "P5c");
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    public void OneWayLoss_excludes_the_deaf_daemon_by_fail_to_receive(ulong seed)
    {
        (SimulationResult r, _) = Run("OneWayLossFailToReceive", seed);
        AssertClean(r);
        Assert.Contains(r.Trace!, e => e.Kind == TraceKind.Conf && e.Node == 1 && e.TimeUs > 800_000 && e.TimeUs < 4_000_000 && e.Conf.Kind == ConfKind.Regular && !e.Members!.Contains(3u));
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    public void SimultaneousPartitionAndMerge_gives_one_transitional_configuration_per_old_ring(ulong seed)
    {
        (SimulationResult r, _) = Run("SimultaneousPartitionAndMerge", seed);
        AssertClean(r);
        List<TraceEvent> confs = [.. r.Trace!.Where(e => e.Kind == TraceKind.Conf && e.TimeUs > 1_500_000 && e.TimeUs < 3_500_000)];
        TraceEvent reg345 = confs.First(e => e.Conf.Kind == ConfKind.Regular && e.Members!.SequenceEqual(new uint[] { 3, 4, 5 }));
        Assert.Contains(confs, e => e.Node == 3 && e.Conf == ConfId.Trans(reg345.Conf.Ring, e.Conf.Old) && e.Members!.SequenceEqual(new uint[] { 3 }));
        Assert.Contains(confs, e => e.Node == 4 && e.Conf.Kind == ConfKind.Transitional && e.Conf.Ring == reg345.Conf.Ring && e.Members!.SequenceEqual(new uint[] { 4, 5 }));
        Assert.Contains(confs, e => e.Node == 1 && e.Conf.Kind == ConfKind.Transitional && e.Members!.SequenceEqual(new uint[] { 1, 2 }));
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void OneWayPathAfterMerge_keeps_the_daemon_whose_successor_cannot_reach_it(ulong seed)
    {
        (SimulationResult r, _) = Run("OneWayPathAfterMerge", seed);
        AssertClean(r);
        // The merged ring forms while 3 -> 2 is still down, and it is the last configuration anyone installs.
        TraceEvent merged = r.Trace!.First(e => e.Kind == TraceKind.Conf && e.Node == 1 && e.TimeUs > 1_500_000 && e.Conf.Kind == ConfKind.Regular && e.Members!.Length == 5);
        Assert.True(merged.TimeUs < 2_700_000, $"the merge came only at {merged.TimeUs} us, after the one-way path healed");
        List<TraceEvent> later = [.. r.Trace!.Where(e => e.Kind == TraceKind.Conf && e.TimeUs > merged.TimeUs && e.Conf.Ring != merged.Conf.Ring)];
        Assert.True(later.Count == 0, $"the merged ring {merged.Conf.Ring} did not hold: {string.Join("; ", later.Take(5).Select(e => $"{e.Node}@{e.TimeUs}: {e.Conf.Kind} {e.Conf.Ring} [{string.Join(",", e.Members!)}]"))}");
    }
}
