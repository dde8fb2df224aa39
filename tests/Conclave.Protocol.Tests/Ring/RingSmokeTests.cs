using Conclave.Protocol.Ring;
using Conclave.Protocol.Simulation;
using Conclave.Protocol.Tracing;

namespace Conclave.Protocol.Tests.Ring;

public sealed class RingSmokeTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void Daemons_form_one_ring_and_deliver_in_the_same_order(int daemons)
    {
        var sim = new Simulator(new SimulationConfig { Daemons = daemons, Seed = 7, SendRate = 200, Duplication = 0 });
        sim.BootAll();
        sim.StartLoad(0);
        sim.LoadUntil = 2_000_000;
        sim.Run(3_000_000);

        RingId ring = sim.Machine(1)!.MyRingId;
        foreach (uint n in sim.NodeIds)
        {
            RingMachine m = sim.Machine(n)!;
            Assert.Equal(RingState.Operational, m.State);
            Assert.Equal(ring, m.MyRingId);
            Assert.Equal(daemons, m.Members.Count);
            Assert.Equal(0, m.PendingSends);
        }
        var perNode = sim.NodeIds.Select(n => sim.Trace.Where(e => e.Kind == TraceKind.Deliver && e.Node == n).Select(e => e.Message).ToList()).ToList();
        int sends = sim.Trace.Count(e => e.Kind == TraceKind.Send);
        Assert.True(sends > 100 * daemons);
        foreach (var list in perNode) Assert.Equal(sends, list.Count);
        foreach (var list in perNode) Assert.Equal(perNode[0], list);
    }
}
