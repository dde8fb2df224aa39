using Conclave.Protocol.Simulation;

namespace Conclave.Protocol.Tests.Simulation;

/// <summary>
/// The CI campaign: 300 random seeds (3–7 daemons, loss up to 20 %, every fault class) checked
/// against the EVS properties, and group-layer seeds checked against G-P1..G-P7 as well. Runs are
/// shortened (5 s of faults, 3 s to settle) to keep CI fast; a failing seed prints its replay.
/// </summary>
public sealed class RandomCampaignTests
{
    private const int SeedsPerBlock = 25;

    public static TheoryData<int> EvsBlocks() => Blocks(12);

    public static TheoryData<int> GroupBlocks() => Blocks(3);

    private static TheoryData<int> Blocks(int count)
    {
        var data = new TheoryData<int>();
        for (int b = 0; b < count; b++) data.Add(b);
        return data;
    }

    [Theory]
    [MemberData(nameof(EvsBlocks))]
    public void Random_faults_never_violate_evs(int block) => RunBlock(new CampaignOptions(), block, firstSeed: 1);

    [Theory]
    [MemberData(nameof(GroupBlocks))]
    public void Random_faults_never_violate_the_group_invariants(int block) => RunBlock(new CampaignOptions(Groups: true), block, firstSeed: 10_001);

    private static void RunBlock(CampaignOptions options, int block, ulong firstSeed)
    {
        var failures = new List<string>();
        ulong from = firstSeed + (ulong)(block * SeedsPerBlock);
        for (ulong seed = from; seed < from + SeedsPerBlock; seed++)
        {
            SimulationConfig config = options.ConfigFor(seed) with { FaultPeriodUs = 5_000_000, SettleUs = 3_000_000 };
            SimulationResult r = SimulationRunner.Run(config);
            if (r.Violations.Count > 0)
            {
                failures.Add($"seed {seed}: {r.Violations[0]} (the CLI replays the full-length run: conclave sim --seed {seed}{(options.Groups ? " --groups" : "")} --trace)");
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }
}
