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

    // Token hold at 0.8 × the retransmit timeout (36 ms, Spread's): long against the default 2 ms, so a wait shows.
    private static readonly RingOptions Holding = new() { TokenHoldTimeoutUs = null };

    // A hold long against the simulator's rotation (about 1 ms), so a missed cancel shows as a long wait.
    private static readonly RingOptions LongHold = new() { TokenHoldTimeoutUs = 30_000 };

    // Between delivery and answer: a few rotations, fewer than SeqUnchangedConst.
    private const long ThinkTimeUs = 5_000;

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(8, true)]
    public void Fewer_than_three_idle_visits_before_a_hold_are_refused(int visits, bool valid)
    {
        var options = new RingOptions { SeqUnchangedConst = visits };
        if (valid)
        {
            options.Validate();
        }
        else
        {
            Assert.Contains("SeqUnchangedConst at least 3", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
        }
    }

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

    [Theory]
    [InlineData(1u, 2u)] // the representative's own message: it must not hold right after it
    [InlineData(1u, 3u)]
    [InlineData(2u, 3u)]
    [InlineData(3u, 2u)]
    [InlineData(3u, 1u)]
    public void An_answer_to_a_message_is_not_kept_waiting_by_a_hold(uint first, uint answerer)
    {
        // A member answers a few rotations after it delivered a message (a key agreement step, a state
        // exchange): the token must not be held then unless the answerer's cancel can release it.
        var sim = new Simulator(new SimulationConfig { Daemons = 3, Seed = 17, Duplication = 0, Faults = FaultKinds.None, TailProbability = 0, Ring = LongHold });
        sim.BootAll();
        sim.Run(2 * Second);
        RunUntilHolding(sim);

        long answered = -1;
        var answerDelivered = new List<long>();
        sim.OnDelivery = (node, delivery) =>
        {
            if (delivery is not RingMessage message) return;
            if (message.Payload[0] == 1 && node == answerer && answered < 0)
            {
                answered = sim.Now + ThinkTimeUs;
                sim.At(answered, () => sim.Submit(answerer, RingService.Agreed, [2]));
            }
            else if (message.Payload[0] == 2)
            {
                answerDelivered.Add(sim.Now);
            }
        };
        sim.Submit(first, RingService.Agreed, [1]);
        sim.Run(sim.Now + 200_000);

        Assert.True(answered > 0, "the first message was not delivered at the answerer");
        Assert.Equal(3, answerDelivered.Count);
        long latest = answerDelivered.Max() - answered;
        Assert.True(latest < LongHold.EffectiveTokenHoldUs / 3, $"answer delivered everywhere {latest} µs after it was submitted");
    }

    [Theory]
    [InlineData(3u, 3u, 0)] // the last sender keeps the token: its next message finds it at hand
    [InlineData(3u, 2u, 1)] // another member sends one TokenHoldCancel, to the keeper
    [InlineData(2u, 1u, 1)] // the representative too, when another member keeps the token
    public void The_token_rests_at_the_last_sender_and_a_cancel_finds_it_there(uint lastSender, uint next, int cancels)
    {
        var sim = new Simulator(new SimulationConfig { Daemons = 3, Seed = 29, Duplication = 0, Faults = FaultKinds.None, TailProbability = 0, Ring = LongHold });
        sim.BootAll();
        sim.Run(2 * Second);
        sim.Submit(lastSender, RingService.Agreed, [1]);
        for (int i = 0; i < 10_000 && !sim.Machine(lastSender)!.HoldingToken; i++)
        {
            sim.Run(sim.Now + 100);
        }

        Assert.True(sim.Machine(lastSender)!.HoldingToken, $"node {lastSender} does not hold the token");
        Assert.All(sim.NodeIds.Where(n => n != lastSender), n => Assert.False(sim.Machine(n)!.HoldingToken));
        long cancelsBefore = sim.NodeIds.Sum(n => sim.Machine(n)!.Counters.TokenHoldCancels);
        long submitted = sim.Now;
        sim.Submit(next, RingService.Agreed, [2]);
        sim.Run(submitted + 40_000);

        TraceEvent[] deliveries = [.. sim.Trace.Where(e => e.Kind == TraceKind.Deliver && e.TimeUs >= submitted)];
        Assert.Equal(3, deliveries.Length);
        long latest = deliveries.Max(e => e.TimeUs) - submitted;
        Assert.True(latest < LongHold.EffectiveTokenHoldUs / 4, $"delivered everywhere {latest} µs after submission");
        Assert.Equal(cancels, sim.NodeIds.Sum(n => sim.Machine(n)!.Counters.TokenHoldCancels) - cancelsBefore);
    }

    [Fact]
    public void A_message_queued_while_the_ring_re_forms_leaves_soon_after_the_new_ring_is_installed()
    {
        // Queued outside OPERATIONAL, so no TokenHoldCancel was sent: the new ring must not start with a hold
        // (idle counts carried over from long-idle old rings would allow one at its first visit).
        var sim = new Simulator(new SimulationConfig { Daemons = 3, Seed = 23, Duplication = 0, Faults = FaultKinds.None, TailProbability = 0, Ring = LongHold });
        sim.Boot(1, keepRingSeq: true);
        sim.Boot(2, keepRingSeq: true);
        sim.Run(2 * Second);
        Assert.Equal(2, sim.Machine(1)!.Members.Count);
        sim.Boot(3, keepRingSeq: true);
        for (int i = 0; i < 10_000 && sim.Machine(2)!.State == RingState.Operational; i++)
        {
            sim.Run(sim.Now + 50);
        }

        Assert.NotEqual(RingState.Operational, sim.Machine(2)!.State);
        long submitted = sim.Now;
        sim.Submit(2, RingService.Agreed, [9]);
        sim.Run(submitted + Second);

        Assert.Equal(3, sim.Machine(1)!.Members.Count);
        long installed = sim.Trace.Where(e => e.Kind == TraceKind.Conf && e.TimeUs >= submitted).Max(e => e.TimeUs);
        TraceEvent[] deliveries = [.. sim.Trace.Where(e => e.Kind == TraceKind.Deliver && e.TimeUs >= submitted)];
        Assert.Equal(3, deliveries.Length);
        long latest = deliveries.Max(e => e.TimeUs) - installed;
        Assert.True(latest < LongHold.EffectiveTokenHoldUs / 3, $"delivered everywhere {latest} µs after the last install");
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
