using Conclave.Protocol.Simulation;

namespace Conclave.Protocol.Tests.Simulation;

/// <summary>Random fault campaigns over fixed seeds; a failing seed prints the command that replays it.</summary>
public sealed class RandomCampaignTests
{
    public static TheoryData<int> Blocks()
    {
        var data = new TheoryData<int>();
        for (int b = 0; b < 6; b++) data.Add(b);
        return data;
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void Random_faults_never_violate_evs(int block)
    {
        var options = new CampaignOptions();
        var failures = new List<string>();
        for (ulong seed = (ulong)(block * 10) + 1; seed <= (ulong)(block * 10) + 10; seed++)
        {
            SimulationConfig config = options.ConfigFor(seed);
            SimulationResult r = SimulationRunner.Run(config);
            if (r.Violations.Count > 0)
            {
                failures.Add($"seed {seed}: {r.Violations[0]} — replay: conclave sim --seed {seed} --trace");
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }
}
