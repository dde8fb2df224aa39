using Conclave.Daemon.Ring;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>
/// A session's large messages follow one another without waiting for each to come back, and a
/// configuration change in the middle of one restarts it ahead of the session's later messages.
/// </summary>
public sealed class LargeMessagePipelineTests
{
    [Fact]
    public void Back_to_back_large_messages_of_one_session_share_token_visits()
    {
        var ring = new MemoryRing(3, new RingLayerSettings(FragmentSize: 1_000));
        ring.RunUntil(() => ring.Nodes.All(n => n.Regular.Count == 3));
        long visitsBefore = ring.Nodes[0].Layer.TokenVisits;

        for (int i = 0; i < 40; i++)
        {
            ring.Nodes[0].Layer.Submit(MemoryRing.Data("#x#d1", 2_500, (byte)i)); // three fragments each
        }

        ring.RunUntil(() => ring.Nodes.All(n => n.Delivered.Count == 40));

        long visits = ring.Nodes[0].Layer.TokenVisits - visitsBefore;
        Assert.True(visits < 20, $"40 three-fragment messages took {visits} token visits");
        Assert.All(ring.Nodes, n => Assert.Equal([.. Enumerable.Range(0, 40).Select(i => (byte)i)], n.Delivered.Select(m => m.Frame.Span[^1])));
    }

    [Fact]
    public void A_large_message_cut_by_a_configuration_change_is_restarted_ahead_of_its_session_s_later_messages()
    {
        var ring = new MemoryRing(3, new RingLayerSettings(FragmentSize: 1_000));
        ring.RunUntil(() => ring.Nodes.All(n => n.Regular.Count == 3));

        ring.Nodes[0].Layer.Submit(MemoryRing.Data("#x#d1", 300_000, 1));
        ring.Nodes[0].Layer.Submit(MemoryRing.Data("#x#d1", 5_000, 2));
        ring.Nodes[0].Layer.Submit(MemoryRing.Data("#x#d1", 10, 3));
        ring.Nodes[0].Layer.Submit(MemoryRing.Data("#y#d1", 10, 4));
        // Part of the first message is out when d3 crashes.
        ring.RunUntil(() => ring.Nodes[1].Layer.PartialMessages == 1);
        ring.Nodes[2].Crashed = true;

        ring.RunUntil(() => ring.Nodes[..2].All(n => n.Regular.Count == 2 && n.Delivered.Count == 4));

        Assert.True(ring.Nodes[0].Layer.RestartedMessages >= 1);
        foreach (MemoryRing.Node node in ring.Nodes[..2])
        {
            Assert.Equal([1, 2, 3], node.Delivered.Where(m => m.Sender == "#x#d1").Select(m => (int)m.Frame.Span[^1]));
            Assert.Single(node.Delivered, m => m.Sender == "#y#d1");
            Assert.True(node.Delivered[0].Frame.Length > 300_000 || node.Delivered[0].Sender == "#y#d1");
        }

        Assert.Equal(ring.Nodes[0].Delivered.Select(m => m.Frame.ToArray()), ring.Nodes[1].Delivered.Select(m => m.Frame.ToArray()));
    }
}
