using Conclave.Protocol.Groups;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>The ring ordering layer over several in-memory ring cores.</summary>
public sealed class RingOrderingLayerTests
{
    [Fact]
    public void Three_daemons_form_one_configuration_with_unique_membership_ids()
    {
        var ring = new MemoryRing(3);

        ring.RunUntil(() => ring.Nodes.All(n => n.Regular.Count == 3));

        Assert.All(ring.Nodes, n => Assert.Equal(["d1", "d2", "d3"], n.Regular));
        Assert.Equal(ring.Nodes[0].Ids[^1], ring.Nodes[2].Ids[^1]);
        Assert.Equal(unchecked((int)0x7F000001), ring.Nodes[0].Ids[^1].ProcId);
        // Each daemon's ids (singleton Reg, Trans, merged Reg) are distinct.
        Assert.All(ring.Nodes, n => Assert.Equal(n.Ids.Count, n.Ids.Distinct().Count()));
    }

    [Fact]
    public void A_megabyte_goes_through_in_fragments_while_small_messages_pass_it_in_one_agreed_order()
    {
        var ring = new MemoryRing(3, new Conclave.Daemon.Ring.RingLayerSettings(FragmentSize: 4_000));
        ring.RunUntil(() => ring.Nodes.All(n => n.Regular.Count == 3));

        ring.Nodes[0].Layer.Submit(MemoryRing.Data("#big#d1", 1 << 20, 0xAB));
        for (int i = 0; i < 20; i++)
        {
            ring.Nodes[0].Layer.Submit(MemoryRing.Data("#small#d1", 100, (byte)i));
            ring.Nodes[1].Layer.Submit(MemoryRing.Data("#small#d2", 100, (byte)i));
        }

        ring.RunUntil(() => ring.Nodes.All(n => n.Delivered.Count == 41));

        Assert.Equal(ring.Nodes[0].Delivered.Select(m => m.Frame.ToArray()), ring.Nodes[1].Delivered.Select(m => m.Frame.ToArray()));
        Assert.Equal(ring.Nodes[0].Delivered.Select(m => m.Frame.ToArray()), ring.Nodes[2].Delivered.Select(m => m.Frame.ToArray()));
        GroupMessage big = Assert.Single(ring.Nodes[2].Delivered, m => m.Sender == "#big#d1");
        Assert.True(big.Frame.Length > 1 << 20);
        Assert.True(big.Frame.Span[^1] == 0xAB && big.Frame.Span[^(1 << 20)] == 0xAB);
        // Not starved: the small messages, sent after the big one, arrive before its last fragment.
        Assert.Equal("#big#d1", ring.Nodes[0].Delivered[^1].Sender);
        // Each session's messages stay in order.
        Assert.Equal([.. Enumerable.Range(0, 20).Select(i => (byte)i)], ring.Nodes[1].Delivered.Where(m => m.Sender == "#small#d2").Select(m => m.Frame.Span[^1]));
    }

    /// <summary>
    /// J6: during a state exchange (two leaders' state messages) only group-state messages go on the
    /// ring; client requests queued with them, small or fragmented, are ordered after both at every
    /// daemon, not after the first leader's state on the same token visit.
    /// </summary>
    [Fact]
    public void Client_requests_wait_for_the_state_exchange_to_end()
    {
        var ring = new MemoryRing(3, new Conclave.Daemon.Ring.RingLayerSettings(FragmentSize: 1_000));
        ring.RunUntil(() => ring.Nodes.All(n => n.Regular.Count == 3));
        foreach (MemoryRing.Node node in ring.Nodes)
        {
            node.StatesToEndExchange = 2;
        }

        var state = new GroupsStateMessage(new MembershipId(1, 2), ["d1"], []);
        ring.Nodes[0].Layer.Submit(MemoryRing.Data("#a#d1", 10, 1));
        ring.Nodes[0].Layer.Submit(MemoryRing.Data("#b#d1", 5_000, 2));
        ring.Nodes[0].Layer.Submit(GroupMessage.GroupsState("d1", state));
        ring.Nodes[1].Layer.Submit(MemoryRing.Data("#c#d2", 10, 3));
        ring.Nodes[1].Layer.Submit(GroupMessage.GroupsState("d2", state with { SyncedSet = ["d2", "d3"] }));
        ring.RunUntil(() => ring.Nodes.All(n => n.Delivered.Count == 5));

        Assert.All(ring.Nodes, n => Assert.Equal([GroupMessageKind.Groups, GroupMessageKind.Groups], n.Delivered.Take(2).Select(m => m.Kind)));
        Assert.All(ring.Nodes, n => Assert.Equal(["#a#d1", "#b#d1", "#c#d2"], n.Delivered.Skip(2).Select(m => m.Sender).Order(StringComparer.Ordinal)));
        Assert.Equal(ring.Nodes[0].Delivered.Select(m => m.Sender), ring.Nodes[2].Delivered.Select(m => m.Sender));
    }

    [Fact]
    public void A_session_s_message_after_its_large_one_waits_for_it()
    {
        var ring = new MemoryRing(2, new Conclave.Daemon.Ring.RingLayerSettings(FragmentSize: 1_000));
        ring.RunUntil(() => ring.Nodes.All(n => n.Regular.Count == 2));

        ring.Nodes[0].Layer.Submit(MemoryRing.Data("#a#d1", 50_000, 1));
        ring.Nodes[0].Layer.Submit(MemoryRing.Data("#a#d1", 10, 2));
        ring.Nodes[0].Layer.Submit(MemoryRing.Data("#b#d1", 10, 3));
        ring.RunUntil(() => ring.Nodes.All(n => n.Delivered.Count == 3));

        Assert.Equal([3, 1, 2], ring.Nodes[1].Delivered.Select(m => (int)m.Frame.Span[^1]));
    }

    [Fact]
    public void A_partial_message_of_a_crashed_daemon_is_dropped_alike_by_the_survivors()
    {
        var ring = new MemoryRing(3, new Conclave.Daemon.Ring.RingLayerSettings(FragmentSize: 1_000));
        ring.RunUntil(() => ring.Nodes.All(n => n.Regular.Count == 3));

        int[] start = [.. ring.Nodes.Select(n => n.Log.Count)];
        ring.Nodes[2].Layer.Submit(MemoryRing.Data("#big#d3", 200_000, 7));
        // Crash the sender once some of its fragments are out.
        ring.RunUntil(() => ring.Nodes[0].Layer.PartialMessages == 1 && ring.Nodes[1].Layer.PartialMessages == 1);
        ring.Nodes[2].Crashed = true;
        ring.Nodes[0].Layer.Submit(MemoryRing.Data("#after#d1", 10, 1));

        ring.RunUntil(() => ring.Nodes[..2].All(n => n.Regular.Count == 2 && n.Delivered.Count == 1));

        Assert.Equal(ring.Nodes[0].Log[start[0]..], ring.Nodes[1].Log[start[1]..]);
        Assert.DoesNotContain(ring.Nodes[0].Delivered, m => m.Sender == "#big#d3");
        Assert.Contains(ring.Nodes[0].Log, l => l.StartsWith("T d1,d2", StringComparison.Ordinal));
        Assert.True(ring.Nodes[0].Layer.FragmentsDropped > 0);
    }
}
