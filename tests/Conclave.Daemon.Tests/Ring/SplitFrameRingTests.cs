using Conclave.Client;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>
/// Ring packets longer than one link segment travel as split frames (UDP GSO, docs/daemon-link.md): three
/// in-process daemons on loopback exchange large messages and deliver them whole, in one order.
/// </summary>
public sealed class SplitFrameRingTests
{
    /// <param name="segment">
    /// 1472: the default; 256: 30 KB ring packets need more than 64 chunks, so they leave whole with the socket's
    /// segmentation off for that send, and only smaller ones split; 0: segmentation off, every packet whole.
    /// </param>
    [Theory]
    [InlineData(1472)]
    [InlineData(256)]
    [InlineData(0)]
    public async Task Large_messages_cross_the_ring_as_split_frames_and_arrive_whole_in_one_order(int segment)
    {
        await using InProcessRing ring = InProcessRing.Start(3, segment);
        await ring.WaitForRegularAsync("d1", "d2", "d3");
        await using GroupConnection alice = await GroupConnection.ConnectAsync(ring.SpreadName(0), "alice", true);
        await using GroupConnection bob = await GroupConnection.ConnectAsync(ring.SpreadName(1), "bob", true);
        await using GroupConnection carol = await GroupConnection.ConnectAsync(ring.SpreadName(2), "carol", true);
        GroupConnection[] members = [alice, bob, carol];
        foreach (GroupConnection member in members)
        {
            await member.JoinAsync("g");
        }

        foreach (GroupConnection member in members)
        {
            using var timeout = new CancellationTokenSource(ClientSessions.Patience);
            while (!(await member.ReceiveAsync(timeout.Token) is MembershipMessage view && view.Members.Count == 3))
            {
            }
        }

        // 1 KB (one segment), 10 KB (bundled, split), 100 KB (ring fragments of FragmentSize, each split).
        int[] sizes = [1_000, 10_000, 10_000, 100_000, 3_000, 64_000];
        byte[][] bodies = [.. sizes.Select((size, i) => { var body = new byte[size]; new Random(i).NextBytes(body); return body; })];
        for (int i = 0; i < bodies.Length; i++)
        {
            await members[i % 2].MulticastAsync(ServiceType.Agreed, "g", (short)(100 + i), bodies[i]);
        }

        var orders = new List<List<short>>();
        foreach (GroupConnection member in members)
        {
            var order = new List<short>();
            using var timeout = new CancellationTokenSource(ClientSessions.Patience);
            while (order.Count < bodies.Length)
            {
                if (await member.ReceiveAsync(timeout.Token) is DataMessage data && data.MessageType >= 100)
                {
                    Assert.Equal(bodies[data.MessageType - 100], data.Body);
                    order.Add(data.MessageType);
                }
            }

            orders.Add(order);
        }

        Assert.Equal(orders[0], orders[1]);
        Assert.Equal(orders[0], orders[2]);
        DaemonRingStatus[] status = [.. ring.Daemons.Select(d => d.Statistics.Ring!)];
        if (segment == 0)
        {
            Assert.All(status, s => Assert.Equal(0, s.SplitFramesSent));
        }
        else if (OperatingSystem.IsLinux())
        {
            Assert.True(status[0].SplitFramesSent > 0 && status[1].SplitFramesSent > 0, "alice's and bob's daemons sent split frames");
            Assert.True(status[2].SplitFramesJoined > 0, "carol's daemon joined split frames");
        }

        Assert.All(status, s => Assert.Equal(0, s.DroppedTotal));
    }
}
