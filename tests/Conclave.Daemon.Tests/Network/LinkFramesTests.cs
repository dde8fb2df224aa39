using System.Buffers.Binary;
using Conclave.Daemon.Network;

namespace Conclave.Daemon.Tests.Network;

public sealed class LinkFramesTests
{
    private const int Segment = 1472;

    private static byte[] Packet(int length, int seed = 1)
    {
        var packet = new byte[length];
        new Random(seed).NextBytes(packet);
        packet[0] = 1; // a sealed link packet's format
        return packet;
    }

    private static byte[] Frame(byte[] packet, uint sender = 2, uint frameId = 7, int segment = Segment)
    {
        var frame = new byte[LinkFrames.FrameLength(packet.Length, segment)];
        Assert.Equal(frame.Length, LinkFrames.Split(packet, sender, frameId, segment, frame));
        return frame;
    }

    /// <summary>The chunks of a frame, cut as the kernel's segmentation does: every <paramref name="segment"/> bytes.</summary>
    private static List<byte[]> Chunks(byte[] frame, int segment = Segment) =>
        [.. frame.Chunk(segment)];

    /// <summary>Feeds one datagram, walking its chunks as the receive loop does; returns the packets joined.</summary>
    private static List<byte[]> Feed(LinkFrameJoiner joiner, byte[] datagram)
    {
        var joined = new List<byte[]>();
        for (int at = 0; at < datagram.Length;)
        {
            int used = joiner.Take(datagram.AsSpan(at), out byte[]? packet, out int length);
            if (used == 0)
            {
                break;
            }

            at += used;
            if (packet is not null)
            {
                joined.Add(packet.AsSpan(0, length).ToArray());
            }
        }

        return joined;
    }

    [Theory]
    [InlineData(1473)]
    [InlineData(10_041)]
    [InlineData(20_123)]
    [InlineData(30_000 + 41 + 64)]
    [InlineData(LinkFrames.MaxPacket - 64 * LinkFrames.HeaderSize)]
    public void Every_chunk_but_the_last_is_one_segment_and_the_packet_joins_whole(int length)
    {
        byte[] packet = Packet(length);
        Assert.True(LinkFrames.Fits(length, Segment));
        byte[] frame = Frame(packet);
        List<byte[]> chunks = Chunks(frame);
        Assert.Equal(LinkFrames.ChunkCount(length, Segment), chunks.Count);
        Assert.All(chunks[..^1], c => Assert.Equal(Segment, c.Length));
        Assert.All(chunks, c => Assert.Equal(LinkFrames.SplitFormat, c[0]));

        var joiner = new LinkFrameJoiner(3);
        var joined = chunks.SelectMany(c => Feed(joiner, c)).ToList();
        Assert.Equal(packet, Assert.Single(joined));
        Assert.Equal(1, joiner.Joined);
        Assert.Equal(0, joiner.Malformed);
        Assert.Equal(0, joiner.Incomplete);
    }

    [Fact]
    public void Packets_of_one_segment_or_less_and_oversized_ones_do_not_split()
    {
        Assert.False(LinkFrames.Fits(Segment, Segment));
        Assert.False(LinkFrames.Fits(100, Segment));
        Assert.False(LinkFrames.Fits(LinkFrames.MaxPacket + 1, Segment));
        Assert.False(LinkFrames.Fits(20_000, 300)); // more than 64 chunks
        Assert.False(LinkFrames.Fits(2_000, LinkFrames.MinSegment - 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => LinkFrames.Split(new byte[100], 1, 1, Segment, new byte[200]));
    }

    [Fact]
    public void A_datagram_of_several_frames_back_to_back_joins_each()
    {
        // UDP GRO hands a receiver one segmented send whole, and may put segments of several sends together.
        byte[] a = Packet(20_000, 1), b = Packet(1_500, 2), c = Packet(9_000, 3);
        byte[] datagram = [.. Frame(a, frameId: 1), .. Frame(b, frameId: 2), .. Frame(c, sender: 3, frameId: 1)];
        var joiner = new LinkFrameJoiner(3);
        List<byte[]> joined = Feed(joiner, datagram);
        Assert.Equal(3, joined.Count);
        Assert.Equal(a, joined[0]);
        Assert.Equal(b, joined[1]);
        Assert.Equal(c, joined[2]);
    }

    [Fact]
    public void Chunks_out_of_order_and_duplicated_still_join_once()
    {
        byte[] packet = Packet(10_000);
        List<byte[]> chunks = Chunks(Frame(packet));
        var joiner = new LinkFrameJoiner(3);
        var order = chunks.AsEnumerable().Reverse().Concat(chunks.Take(2)).ToList();
        var joined = order.SelectMany(c => Feed(joiner, c)).ToList();
        Assert.Equal(packet, Assert.Single(joined));
        Assert.Equal(0, joiner.Malformed);
    }

    [Fact]
    public void A_frame_missing_a_chunk_is_abandoned_at_the_senders_next_frame_and_counted()
    {
        byte[] first = Packet(10_000, 1), second = Packet(10_000, 2);
        List<byte[]> lost = Chunks(Frame(first, frameId: 1));
        lost.RemoveAt(3);
        var joiner = new LinkFrameJoiner(3);
        Assert.Empty(lost.SelectMany(c => Feed(joiner, c)));
        Assert.Equal(second, Assert.Single(Feed(joiner, Frame(second, frameId: 2))));
        Assert.Equal(1, joiner.Incomplete);
        Assert.Equal(1, joiner.Joined);

        // Another sender's frames do not disturb a frame in progress.
        List<byte[]> fromTwo = Chunks(Frame(first, sender: 2, frameId: 3));
        Assert.Empty(Feed(joiner, fromTwo[0]));
        Assert.Single(Feed(joiner, Frame(second, sender: 3, frameId: 1)));
        Assert.Equal(first, Assert.Single(fromTwo.Skip(1).SelectMany(c => Feed(joiner, c))));
        Assert.Equal(1, joiner.Incomplete);
    }

    public static TheoryData<string, Action<byte[]>> Corruptions => new()
    {
        { "format", c => c[0] = 9 },
        { "reserved", c => c[3] = 1 },
        { "index past count", c => c[1] = c[2] },
        { "count 1", c => c[2] = 1 },
        { "count 65", c => c[2] = 65 },
        { "sender 0", c => BinaryPrimitives.WriteUInt32LittleEndian(c.AsSpan(4), 0) },
        { "unknown sender", c => BinaryPrimitives.WriteUInt32LittleEndian(c.AsSpan(4), 4) },
        { "total too large", c => BinaryPrimitives.WriteUInt32LittleEndian(c.AsSpan(12), 70_000) },
        { "chunk past total", c => BinaryPrimitives.WriteUInt16LittleEndian(c.AsSpan(16), 9_990) },
        { "chunk longer than datagram", c => BinaryPrimitives.WriteUInt16LittleEndian(c.AsSpan(18), 1_500) },
        { "empty chunk", c => BinaryPrimitives.WriteUInt16LittleEndian(c.AsSpan(18), 0) },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void A_malformed_chunk_is_dropped_and_counted(string what, Action<byte[]> corrupt)
    {
        byte[] packet = Packet(10_000);
        List<byte[]> chunks = Chunks(Frame(packet));
        corrupt(chunks[2]);
        var joiner = new LinkFrameJoiner(3);
        Assert.Empty(chunks.SelectMany(c => Feed(joiner, c)));
        Assert.True(joiner.Malformed >= 1, what);
        Assert.Equal(0, joiner.Joined);
    }

    [Fact]
    public void A_frame_whose_chunks_change_shape_or_leave_gaps_is_dropped()
    {
        byte[] packet = Packet(10_000);
        List<byte[]> chunks = Chunks(Frame(packet));
        var joiner = new LinkFrameJoiner(3);

        // Chunk 1 claims chunk 0's place: refused at once.
        List<byte[]> gap = [.. chunks.Select(c => c.ToArray())];
        BinaryPrimitives.WriteUInt16LittleEndian(gap[1].AsSpan(16), 0);
        Assert.Empty(gap.SelectMany(c => Feed(joiner, c)));
        Assert.Equal(1, joiner.Malformed);

        // Chunks that agree with themselves but not with each other: chunk 1 shorter, at its own place.
        List<byte[]> uneven = [.. Chunks(Frame(packet, frameId: 9)).Select(c => c.ToArray())];
        BinaryPrimitives.WriteUInt16LittleEndian(uneven[1].AsSpan(16), 1_000);
        BinaryPrimitives.WriteUInt16LittleEndian(uneven[1].AsSpan(18), 1_000);
        Assert.Empty(uneven.SelectMany(c => Feed(joiner, c[..(LinkFrames.HeaderSize + BinaryPrimitives.ReadUInt16LittleEndian(c.AsSpan(18)))])));
        Assert.Equal(2, joiner.Malformed);

        // A later chunk of the same frame with another count.
        List<byte[]> shape = [.. Chunks(Frame(packet, frameId: 8)).Select(c => c.ToArray())];
        shape[4][2] = (byte)(shape[4][2] + 1);
        Assert.Empty(shape.SelectMany(c => Feed(joiner, c)));
        Assert.Equal(3, joiner.Malformed);
        Assert.Equal(0, joiner.Joined);
    }

    [Fact]
    public void Random_input_never_throws()
    {
        var random = new Random(42);
        var joiner = new LinkFrameJoiner(3);
        byte[] valid = Frame(Packet(5_000));
        for (int i = 0; i < 20_000; i++)
        {
            byte[] datagram = i % 2 == 0 ? new byte[random.Next(0, 3_000)] : valid.Take(random.Next(0, valid.Length + 1)).ToArray();
            if (i % 2 == 0)
            {
                random.NextBytes(datagram);
                if (datagram.Length > 0 && i % 4 == 0)
                {
                    datagram[0] = LinkFrames.SplitFormat;
                }
            }
            else if (datagram.Length > 0)
            {
                datagram[random.Next(datagram.Length)] ^= (byte)random.Next(1, 256);
            }

            Feed(joiner, datagram);
        }

        Assert.True(joiner.Malformed > 0);
    }
}
