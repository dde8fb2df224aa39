using Conclave.Protocol.Ring;
using Conclave.Protocol.Simulation;
using Conclave.Protocol.Tracing;

namespace Conclave.Protocol.Tests.Ring;

/// <summary>
/// Keeping the token after sending: a member that alone is sending keeps the token after its visit, so its
/// next message leaves at once instead of after a rotation; others still get the token within the hold
/// period (or at once with a TokenHoldCancel), and safe messages are not kept waiting.
/// </summary>
public sealed class TokenKeepTests
{
    private const long Second = 1_000_000;

    // A client's turn-around between delivery of its message and its next submission.
    private const long TurnAroundUs = 50;

    // A hold long against the simulator's rotation (about 1 ms), so a missed release shows as a long wait.
    private static readonly RingOptions LongHold = new() { TokenHoldTimeoutUs = 30_000 };

    [Fact]
    public void A_lone_sender_at_window_one_finds_the_token_at_hand_and_every_member_delivers_the_same_order()
    {
        (List<long> kept, Simulator keeping) = PingPong(new RingOptions(), RingService.Agreed, 200);
        (List<long> passed, Simulator passing) = PingPong(new RingOptions { TokenHoldTimeoutUs = 0 }, RingService.Agreed, 200);

        // In the simulator a visit takes no time: a message sent on a kept token is delivered back at once.
        int immediate = kept.Count(l => l == 0);
        Assert.True(immediate >= 150, $"{immediate} of {kept.Count} round trips without waiting for the token");
        Assert.True(keeping.Machine(1)!.Counters.TokenKeeps >= 150, $"{keeping.Machine(1)!.Counters.TokenKeeps} keeps");
        Assert.Equal(0, passed.Count(l => l == 0));
        Assert.True(Median(passed) > 300, $"median round trip without keeping {Median(passed)} µs");
        AssertSameOrderEverywhere(keeping, 200);
        Assert.Empty(new TraceChecker().Check(keeping.Trace));
    }

    [Fact]
    public void Safe_messages_are_not_kept_waiting_for_the_hold()
    {
        (List<long> latencies, Simulator sim) = PingPong(LongHold, RingService.Safe, 50);

        Assert.Equal(0, sim.Machine(1)!.Counters.TokenKeeps);
        Assert.True(latencies.Max() < LongHold.EffectiveTokenHoldUs / 3, $"slowest safe round trip {latencies.Max()} µs");
        AssertSameOrderEverywhere(sim, 50);
    }

    [Theory]
    [InlineData(2u)]
    [InlineData(3u)]
    public void Another_member_sending_while_the_sender_keeps_the_token_is_not_kept_waiting(uint other)
    {
        var sim = new Simulator(new SimulationConfig { Daemons = 3, Seed = 31, Duplication = 0, Faults = FaultKinds.None, TailProbability = 0, Ring = LongHold });
        sim.BootAll();
        sim.Run(2 * Second);
        // Node 1 sends a few messages back to back until it keeps the token.
        int sent = 0;
        sim.OnDelivery = (node, delivery) =>
        {
            if (node == 1 && delivery is RingMessage { Payload: [1, ..] } && sent < 10)
            {
                sent++;
                sim.At(sim.Now + TurnAroundUs, () => sim.Submit(1, RingService.Agreed, [1]));
            }
        };
        sim.Submit(1, RingService.Agreed, [1]);
        for (int i = 0; i < 10_000 && !(sim.Machine(1)!.HoldingToken && sim.Machine(1)!.Counters.TokenKeeps > 0); i++)
        {
            sim.Run(sim.Now + 10);
        }

        Assert.True(sim.Machine(1)!.HoldingToken && sim.Machine(1)!.Counters.TokenKeeps > 0, "node 1 does not keep the token");
        sim.OnDelivery = null;
        long submitted = sim.Now;
        sim.Submit(other, RingService.Agreed, [2]);
        sim.Run(submitted + 40_000);

        TraceEvent[] deliveries = [.. sim.Trace.Where(e => e.Kind == TraceKind.Deliver && e.TimeUs >= submitted && e.Message.Node == other)];
        Assert.Equal(3, deliveries.Length);
        long latest = deliveries.Max(e => e.TimeUs) - submitted;
        Assert.True(latest < LongHold.EffectiveTokenHoldUs / 4, $"delivered everywhere {latest} µs after submission");
        Assert.Empty(new TraceChecker().Check(sim.Trace));
    }

    [Fact]
    public void A_kept_token_goes_round_within_the_hold_period_even_while_the_sender_keeps_sending()
    {
        // Node 2 is idle: it learns the stability of node 1's messages only from the token.
        long tokensBefore = 0;
        (List<long> latencies, Simulator sim) = PingPong(new RingOptions(), RingService.Agreed, 400, s => tokensBefore = s.Machine(2)!.Flow.Tokens);
        RingMachine sender = sim.Machine(1)!;

        Assert.True(sender.Counters.TokenKeeps > 100, $"{sender.Counters.TokenKeeps} keeps");
        // Each keep lasts at most the hold period: the token visited node 2 at least once per hold period.
        long duration = latencies.Sum() + (latencies.Count * TurnAroundUs);
        long rotationsNeeded = duration / new RingOptions().EffectiveTokenHoldUs;
        long tokens = sim.Machine(2)!.Flow.Tokens - tokensBefore;
        Assert.True(tokens >= rotationsNeeded && rotationsNeeded >= 5, $"{tokens} token visits at node 2 over {duration} µs of round trips");
        Assert.Equal(0, sim.NodeIds.Sum(n => sim.Machine(n)!.Counters.FailToReceive));
        Assert.Empty(new TraceChecker().Check(sim.Trace));
    }

    [Theory]
    [InlineData(8, 8)]
    [InlineData(1_000, 20)]
    public void A_burst_of_submissions_keeps_the_token_for_at_most_the_cap_and_then_travels_bundled(int keepMax, int expectedKeeps)
    {
        // Twenty submissions arrive one after another while node 1 keeps the token: each continues the kept visit
        // with a packet of its own until the visit has sent TokenKeepMaxMessages; the rest wait and go bundled.
        var sim = new Simulator(new SimulationConfig
        {
            Daemons = 3, Seed = 43, Duplication = 0, Faults = FaultKinds.None, TailProbability = 0,
            Ring = new RingOptions { TokenKeepMaxMessages = keepMax },
        });
        sim.BootAll();
        sim.Run(2 * Second);
        sim.Submit(1, RingService.Agreed, [9]);
        sim.Run(sim.Now + 100_000);
        long keepsBefore = sim.Machine(1)!.Counters.TokenKeeps;
        for (int i = 0; i < 20; i++)
        {
            sim.Submit(1, RingService.Agreed, [9, (byte)i]);
        }

        sim.Run(sim.Now + 100_000);
        Assert.Equal(expectedKeeps, sim.Machine(1)!.Counters.TokenKeeps - keepsBefore);
        AssertSameOrderEverywhere(sim, 21);
        Assert.Empty(new TraceChecker().Check(sim.Trace));
    }

    /// <summary>Node 1 sends <paramref name="count"/> messages, each once its previous one came back; returns each round trip.</summary>
    private static (List<long> Latencies, Simulator Sim) PingPong(RingOptions ring, RingService service, int count, Action<Simulator>? atStart = null)
    {
        var sim = new Simulator(new SimulationConfig { Daemons = 3, Seed = 41, Duplication = 0, Faults = FaultKinds.None, TailProbability = 0, Ring = ring });
        sim.BootAll();
        sim.Run(2 * Second);
        Assert.Equal(3, sim.Machine(1)!.Members.Count);
        atStart?.Invoke(sim);
        var latencies = new List<long>();
        long submittedAt = sim.Now;
        int sent = 1;
        sim.OnDelivery = (node, delivery) =>
        {
            if (node != 1 || delivery is not RingMessage { Payload: [7, ..] })
            {
                return;
            }

            latencies.Add(sim.Now - submittedAt);
            if (sent < count)
            {
                sent++;
                sim.At(sim.Now + TurnAroundUs, () =>
                {
                    submittedAt = sim.Now;
                    sim.Submit(1, service, [7, (byte)sent]);
                });
            }
        };
        sim.Submit(1, service, [7, 1]);
        for (int i = 0; i < 1000 && latencies.Count < count; i++)
        {
            sim.Run(sim.Now + 10_000);
        }

        sim.Run(sim.Now + 100_000);
        Assert.Equal(count, latencies.Count);
        return (latencies, sim);
    }

    private static void AssertSameOrderEverywhere(Simulator sim, int count)
    {
        List<MessageId>[] orders = [.. sim.NodeIds.Select(n => sim.Trace
            .Where(e => e.Kind == TraceKind.Deliver && e.Node == n && e.Message.Node == 1)
            .Select(e => e.Message).ToList())];
        Assert.All(orders, o => Assert.Equal(count, o.Count));
        Assert.All(orders, o => Assert.Equal(orders[0], o));
    }

    private static long Median(List<long> values) => values.Order().ElementAt(values.Count / 2);
}
