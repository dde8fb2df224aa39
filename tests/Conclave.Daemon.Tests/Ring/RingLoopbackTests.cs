using Conclave.Protocol.Ring;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>Packets a daemon's ring addresses to itself stay inside the ring layer: no network, no timer.</summary>
public sealed class RingLoopbackTests
{
    [Fact]
    public void A_ring_of_one_delivers_at_once_and_parks_its_token_while_idle_without_losing_it()
    {
        var ring = new MemoryRing(1);
        MemoryRing.Node lone = ring.Nodes[0];
        ring.RunUntil(() => lone.Regular.Count == 1 && lone.Layer.Ring.State == RingState.Operational);
        RingId formed = lone.Layer.Ring.MyRingId;

        // A submission is ordered and delivered within the call: the token goes round without leaving the layer.
        lone.Layer.Submit(MemoryRing.Data("#a#d1", 100, 1));
        Assert.Single(lone.Delivered);
        Assert.Equal(0, ring.InFlight);

        // Idle for a (simulated) second: the token is parked between retransmit-timer visits instead of
        // spinning, and is never lost (same ring, nothing re-formed).
        long visits = lone.Layer.TokenVisits;
        long until = ring.Now + 1_000_000;
        ring.RunUntil(() => ring.Now >= until);
        Assert.True(lone.Layer.TokensParked > 0);
        long idleVisits = lone.Layer.TokenVisits - visits;
        long bound = (1_000_000 / new RingOptions().TokenRetransmitTimeoutUs) + 5;
        Assert.InRange(idleVisits, 1, bound);
        Assert.Equal(formed, lone.Layer.Ring.MyRingId);
        Assert.Equal(RingState.Operational, lone.Layer.Ring.State);

        // A parked token goes on as soon as there is something to send.
        lone.Layer.Submit(MemoryRing.Data("#a#d1", 100, 2));
        Assert.Equal(2, lone.Delivered.Count);
    }

    [Fact]
    public void Each_daemon_of_a_ring_counts_one_token_visit_per_rotation()
    {
        var ring = new MemoryRing(3);
        ring.RunUntil(() => ring.Nodes.All(n => n.Regular.Count == 3 && n.Layer.Ring.State == RingState.Operational));
        long[] before = [.. ring.Nodes.Select(n => n.Layer.TokenVisits)];

        ring.RunUntil(() => ring.Nodes[0].Layer.TokenVisits >= before[0] + 50);

        // The token passes d1, d2, d3 in turn: the counts stay within one of each other.
        long[] visits = [.. ring.Nodes.Select((n, i) => n.Layer.TokenVisits - before[i])];
        Assert.InRange(visits[1], visits[0] - 1, visits[0] + 1);
        Assert.InRange(visits[2], visits[0] - 1, visits[0] + 1);
    }
}
