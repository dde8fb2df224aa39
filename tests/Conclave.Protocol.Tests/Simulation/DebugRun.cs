using Conclave.Protocol.Simulation;
using Xunit.Abstractions;

namespace Conclave.Protocol.Tests.Simulation;

public sealed class DebugRun(ITestOutputHelper output)
{
    [Fact()]
    public void Debug()
    {
        var cfg = new CampaignOptions(0, 0.2, FaultKinds.None).ConfigFor(1);
        var sim = new Simulator(cfg);
        long end = new RandomFaultScenario().Setup(sim);
        for (long t = 500_000; t <= end; t += 500_000)
        {
            sim.Run(t);
            output.WriteLine($"t={t}");
            foreach (uint n in sim.NodeIds) output.WriteLine($"  {n}: {sim.Machine(n)?.DebugState}");
        }
    }
}
