using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Conclave.Client;
using Conclave.Daemon.Network;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>
/// Hostile packets injected into a live ring: two in-process daemons whose configuration names a
/// third daemon at an address the test holds, so the test receives (and can replay) genuine packets.
/// </summary>
public sealed class PacketInjectionTests
{
    private const int SealedHeader = 25;

    [Fact]
    public async Task Forged_replayed_other_cluster_plaintext_and_junk_packets_are_dropped_counted_and_the_ring_keeps_ordering()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await using InProcessRing ring = InProcessRing.Start(2, (IPEndPoint)probe.LocalEndPoint!);
        IPEndPoint d1 = ring.Endpoints[0];
        IPEndPoint d2 = ring.Endpoints[1];
        using var stopCapture = new CancellationTokenSource();
        var captured = new List<byte[]>();
        Task capture = CaptureAsync(probe, d2, captured, stopCapture.Token);

        await ring.WaitForRegularAsync("d1", "d2");
        await using GroupConnection alice = await GroupConnection.ConnectAsync(ring.SpreadName(0), "alice", true);
        await using GroupConnection bob = await GroupConnection.ConnectAsync(ring.SpreadName(1), "bob", true);
        await JoinBothAsync(alice, bob);
        List<List<string>> before = await InProcessRing.ExchangeAsync([alice, bob], "g", 5, 100);
        Assert.Equal(before[0], before[1]);

        // Genuine packets d2 multicast (to d1 and to the test's address) during formation and traffic.
        await stopCapture.CancelAsync();
        await capture;
        byte[][] genuine;
        lock (captured)
        {
            genuine = [.. captured];
        }

        Assert.NotEmpty(genuine);
        DaemonRingStatus baseline = ring.Daemons[0].Statistics.Ring!;
        Assert.Equal(0, baseline.DroppedTotal);
        ulong d2Incarnation = BinaryPrimitives.ReadUInt64LittleEndian(genuine[^1].AsSpan(9));

        // Replays: every captured packet sent twice (d1 had it already, or at least the second copy is a replay),
        // and packets sealed by d2's key in an older incarnation.
        foreach (byte[] packet in genuine)
        {
            Send(probe, packet, d1);
            Send(probe, packet, d1);
        }

        using (var oldD2 = new LinkSealer(ring.Key, 2, d2Incarnation - 1))
        {
            for (int i = 0; i < 3; i++)
            {
                Send(probe, oldD2.Seal([1, 2, 3, 4]), d1);
            }
        }

        // Forged: valid headers with a fresh counter or incarnation, ciphertext or tag altered.
        int forged = 0;
        using (var newerD2 = new LinkSealer(ring.Key, 2, d2Incarnation + 1))
        {
            for (int i = 0; i < 3; i++)
            {
                byte[] packet = newerD2.Seal(new byte[40]);
                packet[SealedHeader + i] ^= 0x5A;
                Send(probe, packet, d1);
                forged++;
            }
        }

        foreach (byte[] packet in genuine.Take(3))
        {
            byte[] altered = (byte[])packet.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(altered.AsSpan(17), BinaryPrimitives.ReadUInt64LittleEndian(altered.AsSpan(17)) + 1_000_000);
            altered[^1] ^= 0x01;
            Send(probe, altered, d1);
            forged++;
        }

        // Another cluster's key, even claiming to be d2.
        using (var stranger = new LinkSealer(ClusterKey.Generate(), 2, d2Incarnation + 5))
        {
            for (int i = 0; i < 4; i++)
            {
                Send(probe, stranger.Seal([9, 9, 9]), d1);
            }
        }

        // Plaintext packets while links are sealed.
        using (var plain = new LinkSealer(null, 2, 1))
        {
            for (int i = 0; i < 5; i++)
            {
                Send(probe, plain.Seal([7, 7, 7, 7]), d1);
            }
        }

        // Junk: too short, unknown formats, and a sealed format too short for a tag.
        var random = new Random(4);
        int junk = 0;
        foreach (int length in new[] { 0, 1, 4, 30, 200, 1400 })
        {
            byte[] packet = new byte[length];
            random.NextBytes(packet);
            if (length > 0)
            {
                packet[0] = (byte)(2 + random.Next(250));
            }

            Send(probe, packet, d1);
            junk++;
        }

        Send(probe, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0], d1);
        junk++;

        // Authentic, but from a node id outside the configuration.
        using (var outsider = new LinkSealer(ring.Key, 9, 1))
        {
            Send(probe, outsider.Seal([1]), d1);
        }

        int expectedReplays = genuine.Length + 3;
        await ring.WaitUntilAsync(
            s => s.NodeId != 1 || (s.DroppedForged == forged && s.DroppedReplayed >= expectedReplays && s.DroppedOtherCluster == 4
                && s.DroppedUnsealed == 5 && s.DroppedMalformed == junk && s.DroppedStrangers == 1),
            "d1 to count every injected packet");

        DaemonRingStatus after = ring.Daemons[0].Statistics.Ring!;
        Assert.Equal(forged, after.DroppedForged);
        Assert.InRange(after.DroppedReplayed, expectedReplays, (2 * genuine.Length) + 3);
        Assert.Equal(0, after.MalformedRingPackets);

        // The ring is still the same two daemons and still agrees on one order.
        await ring.WaitForRegularAsync("d1", "d2");
        List<List<string>> afterwards = await InProcessRing.ExchangeAsync([alice, bob], "g", 5, 200);
        Assert.Equal(10, afterwards[0].Count);
        Assert.Equal(afterwards[0], afterwards[1]);
    }

    private static async Task JoinBothAsync(GroupConnection alice, GroupConnection bob)
    {
        await alice.JoinAsync("g");
        await bob.JoinAsync("g");
        foreach (GroupConnection member in new[] { alice, bob })
        {
            using var timeout = new CancellationTokenSource(ClientSessions.Patience);
            while (!(await member.ReceiveAsync(timeout.Token) is MembershipMessage view && view.Members.Count == 2))
            {
            }
        }
    }

    private static void Send(Socket socket, byte[] packet, IPEndPoint to) => socket.SendTo(packet, SocketFlags.None, to);

    /// <summary>Keeps the sealed packets <paramref name="from"/> sends to the test's address.</summary>
    private static async Task CaptureAsync(Socket probe, IPEndPoint from, List<byte[]> captured, CancellationToken stop)
    {
        byte[] buffer = new byte[65_536];
        while (true)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await probe.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (result.RemoteEndPoint.Equals(from) && result.ReceivedBytes > SealedHeader && buffer[0] == 1)
            {
                lock (captured)
                {
                    captured.Add(buffer.AsSpan(0, result.ReceivedBytes).ToArray());
                }
            }
        }
    }
}
