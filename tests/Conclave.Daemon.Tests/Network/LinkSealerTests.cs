using Conclave.Daemon.Network;

namespace Conclave.Daemon.Tests.Network;

public sealed class LinkSealerTests
{
    private static readonly ClusterKey Key = ClusterKey.Generate();

    [Fact]
    public void A_sealed_packet_opens_at_a_peer_with_its_sender()
    {
        using var a = new LinkSealer(Key, 1, 100);
        using var b = new LinkSealer(Key, 2, 200);

        byte[] packet = a.Seal([1, 2, 3]);

        Assert.True(b.TryOpen(packet, out uint sender, out byte[] payload));
        Assert.Equal(1u, sender);
        Assert.Equal(new byte[] { 1, 2, 3 }, payload);
        Assert.Equal(1, b.Counters.Opened);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Packets_sealed_into_a_reused_buffer_open_into_a_reused_buffer(bool sealedLinks)
    {
        ClusterKey? key = sealedLinks ? Key : null;
        using var a = new LinkSealer(key, 1, 100);
        using var b = new LinkSealer(key, 2, 200);
        byte[] sendBuffer = new byte[1024];
        byte[] receiveBuffer = new byte[1024];
        byte[] plainBuffer = new byte[1024];

        // The first packet is longer than the second: nothing of it may leak into the second.
        foreach (byte[] payload in new[] { Enumerable.Range(0, 300).Select(i => (byte)i).ToArray(), new byte[] { 5, 6, 7 } })
        {
            int length = a.Seal(payload, sendBuffer);
            Assert.Equal(payload.Length + a.PacketOverhead, length);
            Assert.Equal(a.Seal(payload).Length, length);
            sendBuffer.AsSpan(0, length).CopyTo(receiveBuffer);

            Assert.True(b.TryOpen(receiveBuffer, length, plainBuffer, out uint sender, out ArraySegment<byte> opened));
            Assert.Equal(1u, sender);
            Assert.Equal(payload, opened.ToArray());
        }

        // A forged copy opens nothing, in the reused buffers too.
        int forgedLength = a.Seal([1, 2, 3, 4], sendBuffer);
        sendBuffer[forgedLength - 1] ^= 1;
        Assert.Equal(!sealedLinks, b.TryOpen(sendBuffer, forgedLength, plainBuffer, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Seal(new byte[1024], sendBuffer));
    }

    [Fact]
    public void Replays_forgeries_other_clusters_and_plaintext_are_dropped_and_counted()
    {
        using var a = new LinkSealer(Key, 1, 100);
        using var b = new LinkSealer(Key, 2, 200);
        using var stranger = new LinkSealer(ClusterKey.Generate(), 1, 100);
        using var plain = new LinkSealer(null, 1, 100);
        byte[] packet = a.Seal([9, 9]);
        Assert.True(b.TryOpen(packet, out _, out _));

        byte[] second = a.Seal([1]);
        Assert.True(b.TryOpen(second, out _, out _));
        byte[] forged = a.Seal([7, 7, 7]);
        forged[26] ^= 1; // a ciphertext bit: a packet b has not seen, altered
        byte[] otherSender = a.Seal([8]);
        otherSender[5] = 3; // claims node 3: the per-sender key no longer matches

        Assert.False(b.TryOpen(packet, out _, out _));
        Assert.False(b.TryOpen(second, out _, out _));
        Assert.False(b.TryOpen(forged, out _, out _));
        Assert.False(b.TryOpen(otherSender, out _, out _));
        Assert.False(b.TryOpen(stranger.Seal([1]), out _, out _));
        Assert.False(b.TryOpen(plain.Seal([1]), out _, out _));
        Assert.False(b.TryOpen([1, 2], out _, out _));

        Assert.Equal(2, b.Counters.Replayed);
        Assert.Equal(2, b.Counters.Forged);
        Assert.Equal(1, b.Counters.OtherCluster);
        Assert.Equal(1, b.Counters.Unsealed);
        Assert.Equal(1, b.Counters.Malformed);
    }

    [Fact]
    public void Reordered_packets_within_the_window_are_accepted_once()
    {
        using var a = new LinkSealer(Key, 1, 100);
        using var b = new LinkSealer(Key, 2, 200);
        byte[][] packets = [.. Enumerable.Range(0, 100).Select(i => a.Seal([(byte)i]))];
        var random = new Random(7);

        foreach (byte[] packet in packets.OrderBy(_ => random.Next()))
        {
            Assert.True(b.TryOpen(packet, out _, out _));
        }

        Assert.All(packets, p => Assert.False(b.TryOpen(p, out _, out _)));
    }

    [Fact]
    public void A_restarted_sender_is_accepted_and_its_old_incarnation_is_a_replay()
    {
        using var old = new LinkSealer(Key, 1, 100);
        using var restarted = new LinkSealer(Key, 1, 101);
        using var b = new LinkSealer(Key, 2, 200);
        byte[] fromOld = old.Seal([1]);

        Assert.True(b.TryOpen(restarted.Seal([2]), out _, out _));
        Assert.False(b.TryOpen(fromOld, out _, out _));
        Assert.Equal(1, b.Counters.Replayed);
    }

    [Fact]
    public void Forgeries_claiming_a_new_incarnation_do_not_disturb_the_genuine_sender()
    {
        using var a = new LinkSealer(Key, 1, 100);
        using var b = new LinkSealer(Key, 2, 200);
        Assert.True(b.TryOpen(a.Seal([1]), out _, out _));

        for (ulong incarnation = 101; incarnation < 111; incarnation++)
        {
            byte[] forged = a.Seal([2]);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(forged.AsSpan(9), incarnation);
            Assert.False(b.TryOpen(forged, out _, out _));
        }

        Assert.True(b.TryOpen(a.Seal([3]), out _, out byte[] payload));
        Assert.Equal(new byte[] { 3 }, payload);
        Assert.Equal(10, b.Counters.Forged);
    }

    [Fact]
    public void Plaintext_links_work_only_when_both_sides_say_so()
    {
        using var a = new LinkSealer(null, 1, 1);
        using var b = new LinkSealer(null, 2, 1);

        Assert.True(b.TryOpen(a.Seal([5]), out uint sender, out byte[] payload));
        Assert.Equal(1u, sender);
        Assert.Equal(new byte[] { 5 }, payload);
        Assert.False(b.IsSealed);
    }
}
