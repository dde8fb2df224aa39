using Conclave.Daemon.Ring;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>Small messages packed into one ring payload: the codec, and the order they come back in.</summary>
public sealed class BundleTests
{
    [Fact]
    public void A_bundle_unpacks_into_the_messages_it_was_packed_from()
    {
        byte[][] messages = [[1, 2, 3], [4], [5, 6]];
        int size = 1 + messages.Sum(Bundle.EntrySize);

        byte[] payload = Bundle.Pack(messages, size);
        var unpacked = new List<ReadOnlyMemory<byte>>();

        Assert.True(Bundle.TryUnpack(payload, unpacked));
        Assert.Equal(messages, unpacked.Select(m => m.ToArray()));
    }

    [Theory]
    [InlineData(new byte[] { Bundle.Kind })]                                  // no entry
    [InlineData(new byte[] { Bundle.Kind, 3, 0, 0 })]                         // truncated length
    [InlineData(new byte[] { Bundle.Kind, 0, 0, 0, 0 })]                      // empty entry
    [InlineData(new byte[] { Bundle.Kind, 1, 0, 0, 0, 9, 5, 0, 0, 0, 1 })]    // second entry overruns
    public void A_malformed_bundle_yields_nothing(byte[] payload)
    {
        var unpacked = new List<ReadOnlyMemory<byte>> { new byte[] { 42 } };

        Assert.False(Bundle.TryUnpack(payload, unpacked));
        Assert.Single(unpacked); // What was there before is untouched.
    }

    [Fact]
    public void A_backlog_leaves_packed_and_arrives_everywhere_in_one_order_with_each_session_in_fifo_order()
    {
        var ring = new MemoryRing(3, new RingLayerSettings(FragmentSize: 2_000));
        ring.RunUntil(() => ring.Nodes.All(n => n.Regular.Count == 3));

        for (int i = 0; i < 60; i++)
        {
            ring.Nodes[0].Layer.Submit(MemoryRing.Data("#a#d1", 100, (byte)i));
            ring.Nodes[0].Layer.Submit(MemoryRing.Data("#b#d1", 300, (byte)i, i % 10 == 0 ? ServiceType.Safe : ServiceType.Agreed));
            ring.Nodes[1].Layer.Submit(MemoryRing.Data("#c#d2", 100, (byte)i));
        }

        ring.RunUntil(() => ring.Nodes.All(n => n.Delivered.Count == 180));

        Assert.True(ring.Nodes[0].Layer.BundledMessages > 60, $"only {ring.Nodes[0].Layer.BundledMessages} messages were packed");
        Assert.True(ring.Nodes[1].Layer.BundledMessages > 20, $"only {ring.Nodes[1].Layer.BundledMessages} messages were packed");
        Assert.Equal(ring.Nodes[0].Delivered.Select(m => m.Frame.ToArray()), ring.Nodes[1].Delivered.Select(m => m.Frame.ToArray()));
        Assert.Equal(ring.Nodes[0].Delivered.Select(m => m.Frame.ToArray()), ring.Nodes[2].Delivered.Select(m => m.Frame.ToArray()));
        foreach (string sender in new[] { "#a#d1", "#b#d1", "#c#d2" })
        {
            Assert.Equal([.. Enumerable.Range(0, 60).Select(i => (byte)i)], ring.Nodes[2].Delivered.Where(m => m.Sender == sender).Select(m => m.Frame.Span[^1]));
        }

        Assert.All(ring.Nodes, n => Assert.Equal(0, n.Layer.Undecodable));
    }
}
