namespace Conclave.Daemon.Tests.Ring;

/// <summary>
/// A lone sender that keeps the token orders its next message at once: the message reaches its clients
/// before its packets leave, so the round trip to self does not wait for the sends.
/// </summary>
public sealed class DeliveryBeforeSendsTests
{
    [Fact]
    public void A_message_sent_on_a_kept_token_is_delivered_and_written_before_its_packets_leave()
    {
        var ring = new MemoryRing(3);
        ring.RunUntil(() => ring.Nodes.All(n => n.Regular.Count == 3));
        MemoryRing.Node sender = ring.Nodes[0];
        // The first message makes d1 the last sender; after the second, sent on the next visit, it keeps the token.
        for (int i = 1; i <= 2; i++)
        {
            sender.Layer.Submit(MemoryRing.Data("#c#d1", 100, (byte)i));
            ring.RunUntil(() => ring.Nodes.All(n => n.Delivered.Count == i));
        }

        Assert.True(sender.Layer.Ring.HoldingToken, "the lone sender keeps the token after its visit");

        sender.Events.Clear();
        sender.Layer.Submit(MemoryRing.Data("#c#d1", 100, 3));

        Assert.Equal(3, sender.Delivered.Count);
        Assert.Equal(["deliver", "write", "send"], sender.Events.Take(3));
        ring.RunUntil(() => ring.Nodes.All(n => n.Delivered.Count == 3));
        Assert.Equal(sender.Delivered.Select(m => m.Frame.ToArray()), ring.Nodes[2].Delivered.Select(m => m.Frame.ToArray()));
    }

    [Fact]
    public void Messages_received_from_another_daemon_are_delivered_without_an_early_write()
    {
        var ring = new MemoryRing(3);
        ring.RunUntil(() => ring.Nodes.All(n => n.Regular.Count == 3));
        ring.Nodes[0].Layer.Submit(MemoryRing.Data("#c#d1", 100, 1));
        ring.Nodes[1].Events.Clear();

        ring.RunUntil(() => ring.Nodes.All(n => n.Delivered.Count == 1));

        // d2 received d1's packet: a delivery with nothing of its own to send needs no early write.
        Assert.DoesNotContain("write", ring.Nodes[1].Events);
    }
}
