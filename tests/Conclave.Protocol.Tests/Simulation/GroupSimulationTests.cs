using Conclave.Protocol.Simulation;

namespace Conclave.Protocol.Tests.Simulation;

/// <summary>The group layer driven by the ring's delivery stream in the simulator.</summary>
public sealed class GroupSimulationTests
{
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    public void Group_tables_agree_after_lossy_runs_without_membership_faults(ulong seed)
    {
        SimulationConfig config = new CampaignOptions(Daemons: 4, MaxLoss: 0.2, Faults: FaultKinds.None, Groups: true).ConfigFor(seed) with { FaultPeriodUs = 4_000_000, SettleUs = 2_000_000 };
        SimulationResult r = SimulationRunner.Run(config);
        Assert.True(r.Violations.Count == 0, $"seed {seed}: {(r.Violations.Count > 0 ? r.Violations[0] : null)}; replay: conclave sim --seed {seed} --daemons 4 --faults none --groups --trace");
    }
}
