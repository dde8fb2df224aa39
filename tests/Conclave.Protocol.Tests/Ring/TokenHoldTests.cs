using Conclave.Protocol.Ring;
using Conclave.Protocol.Simulation;
using Conclave.Protocol.Tracing;

namespace Conclave.Protocol.Tests.Ring;

/// <summary>
/// Token hold: an idle ring stops spinning (the representative keeps the token), and work releases it at
/// once — a submission at the representative, or a TokenHoldCancel from the member that has it.
/// </summary>
public sealed class TokenHoldTests
{
    private const long Second = 1_000_000;

    // Token hold is off by default; these tests switch it on at 0.8 × the retransmit timeout.
    private static readonly RingOptions Holding = new() { TokenHoldTimeoutUs = null };

    [Fact]
    public void An_idle_ring_holds_the_token_and_does_a_small_fraction_of_the_work_of_a_spinning_one()
    {
        long held = IdleEventsPerSecond(Holding, out RingMachine holding);
        long spinning = IdleEventsPerSecond(new RingOptions { TokenHoldTimeoutUs = 0 }, out RingMachine notHolding);

        Assert.True(holding.Counters.TokenHolds > 10, $"{holding.Counters.TokenHolds} holds");
        Assert.Equal(0, notHolding.Counters.TokenHolds);
        Assert.True(held * 5 < spinning, $"idle events per second: {held} holding, {spinning} spinning");
    }

    [Theory]
    [InlineData(1u, 0)] // the representative itself releases its token
    [InlineData(3u, 1)] // another member sends one TokenHoldCancel
    public void A_message_submitted_while_the_token_is_held_is_delivered_everywhere_well_before_the_hold_ends(uint sender, int cancels)
    {
        var sim = new Simulator(new SimulationConfig { Daemons = 3, Seed = 11, Duplication = 0, Faults = FaultKinds.None, TailProbability = 0, Ring = Holding });
        sim.BootAll();
        sim.Run(2 * Second);
        Assert.True(sim.Machine(1)!.HoldingToken || sim.Machine(1)!.Counters.TokenHolds > 0);
        // Submit right after the representative has taken the token into hold.
        RunUntilHolding(sim);
        long submitted = sim.Now;
        sim.Submit(sender, RingService.Agreed, [1, 2, 3]);
        sim.Run(submitted + 30_000);

        TraceEvent[] deliveries = [.. sim.Trace.Where(e => e.Kind == TraceKind.Deliver && e.TimeUs >= submitted)];
        Assert.Equal(3, deliveries.Length);
        long latest = deliveries.Max(e => e.TimeUs) - submitted;
        Assert.True(latest < sim.Config.Ring.EffectiveTokenHoldUs / 4, $"delivered {latest} µs after submission");
        Assert.Equal(cancels, sim.NodeIds.Sum(n => sim.Machine(n)!.Counters.TokenHoldCancels));
    }

    private static void RunUntilHolding(Simulator sim)
    {
        for (int i = 0; i < 10_000 && !sim.Machine(1)!.HoldingToken; i++)
        {
            sim.Run(sim.Now + 100);
        }

        Assert.True(sim.Machine(1)!.HoldingToken);
    }

    private static long IdleEventsPerSecond(RingOptions ring, out RingMachine representative)
    {
        var sim = new Simulator(new SimulationConfig { Daemons = 3, Seed = 5, Duplication = 0, Faults = FaultKinds.None, Ring = ring, RecordTrace = false });
        sim.BootAll();
        sim.Run(2 * Second);
        long before = sim.Events;
        sim.Run(3 * Second);
        representative = sim.Machine(1)!;
        Assert.Equal(3, representative.Members.Count);
        return sim.Events - before;
    }
}
