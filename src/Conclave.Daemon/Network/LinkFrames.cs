using System.Buffers.Binary;

namespace Conclave.Daemon.Network;

/// <summary>
/// Split link frames (format 2, docs/daemon-link.md): a link packet (sealed or plaintext) longer than one
/// segment is cut into chunks of exactly one segment each (the last one shorter), each with a 20-byte
/// header, written back to back into one buffer. With UDP GSO (<c>UDP_SEGMENT</c> = the segment size) that
/// buffer leaves in one <c>sendmsg</c> and crosses veth and bridges as one packet, where a large datagram
/// would be cut into IP fragments that each cost the path's per-packet work. The receiver gets either the
/// chunks one by one or, with <c>UDP_GRO</c>, several back to back in one datagram: every chunk says its
/// own length, so <see cref="LinkFrameJoiner"/> walks either. The chunk headers are not authenticated; the
/// joined packet is, by its own seal, so a forged chunk can only make a packet fail to open (counted).
/// </summary>
public static class LinkFrames
{
    /// <summary>The first byte of a chunk: the link format number after sealed (1) and plaintext (0).</summary>
    public const byte SplitFormat = 2;

    /// <summary>Bytes of a chunk's header.</summary>
    public const int HeaderSize = 20;

    /// <summary>At most this many chunks per packet (the kernel's UDP GSO limit is 64 segments).</summary>
    public const int MaxChunks = 64;

    /// <summary>The smallest segment: a header and some data.</summary>
    public const int MinSegment = 256;

    /// <summary>The largest packet a frame carries (the largest UDP payload over IPv4).</summary>
    public const int MaxPacket = 65_507;

    /// <summary>Chunks a packet of <paramref name="length"/> bytes takes with segments of <paramref name="segment"/> bytes.</summary>
    public static int ChunkCount(int length, int segment) => (length + segment - HeaderSize - 1) / (segment - HeaderSize);

    /// <summary>Bytes of the frame of a packet of <paramref name="length"/> bytes.</summary>
    public static int FrameLength(int length, int segment) => length + ChunkCount(length, segment) * HeaderSize;

    /// <summary>True when a packet of <paramref name="length"/> bytes can travel as one split frame.</summary>
    public static bool Fits(int length, int segment) =>
        segment >= MinSegment && length > segment && length <= MaxPacket && ChunkCount(length, segment) <= MaxChunks
        && FrameLength(length, segment) <= MaxPacket;

    /// <summary>
    /// Writes the split frame of <paramref name="packet"/> into <paramref name="frame"/> and returns its
    /// length: every chunk but the last exactly <paramref name="segment"/> bytes. <see cref="Fits"/> must hold.
    /// </summary>
    /// <remarks>
    /// Chunk header, little-endian: 0 format = 2; 1 chunk index; 2 chunk count; 3 reserved (0);
    /// 4 sender node id (4); 8 frame id (4, the sender's count of split packets); 12 packet length (4);
    /// 16 chunk offset in the packet (2); 18 chunk data length (2). Then the data.
    /// </remarks>
    public static int Split(ReadOnlySpan<byte> packet, uint sender, uint frameId, int segment, Span<byte> frame)
    {
        if (!Fits(packet.Length, segment))
        {
            throw new ArgumentOutOfRangeException(nameof(packet), $"a packet of {packet.Length} B does not split into segments of {segment} B");
        }

        int data = segment - HeaderSize;
        int count = ChunkCount(packet.Length, segment);
        int at = 0;
        for (int index = 0; index < count; index++)
        {
            int offset = index * data;
            int length = Math.Min(data, packet.Length - offset);
            Span<byte> header = frame.Slice(at, HeaderSize);
            header[0] = SplitFormat;
            header[1] = (byte)index;
            header[2] = (byte)count;
            header[3] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(header[4..], sender);
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], frameId);
            BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)packet.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(header[16..], (ushort)offset);
            BinaryPrimitives.WriteUInt16LittleEndian(header[18..], (ushort)length);
            packet.Slice(offset, length).CopyTo(frame[(at + HeaderSize)..]);
            at += HeaderSize + length;
        }

        return at;
    }
}

/// <summary>
/// Joins split link frames back into packets (one per receive loop, so never used concurrently): one
/// packet in progress per sender node; a chunk of another frame from that sender abandons the one in
/// progress (counted in <see cref="Incomplete"/>: UDP lost a chunk, and the ring retransmits the packet as
/// it would a lost datagram). Anything inconsistent is dropped and counted in <see cref="Malformed"/>; it
/// never throws on input.
/// </summary>
public sealed class LinkFrameJoiner
{
    private readonly Slot?[] _slots;

    /// <summary>A joiner for senders 1 to <paramref name="maxNode"/>.</summary>
    public LinkFrameJoiner(int maxNode) => _slots = new Slot?[maxNode + 1];

    /// <summary>Chunks (or datagrams of chunks) dropped as malformed: bad header, unknown sender, inconsistent with their frame.</summary>
    public long Malformed { get; private set; }

    /// <summary>Packets abandoned with chunks missing.</summary>
    public long Incomplete { get; private set; }

    /// <summary>Packets joined whole.</summary>
    public long Joined { get; private set; }

    /// <summary>True when a datagram holds split-frame chunks (its first byte is format 2).</summary>
    public static bool IsSplit(ReadOnlySpan<byte> datagram) => datagram.Length > 0 && datagram[0] == LinkFrames.SplitFormat;

    /// <summary>
    /// Takes the chunk at the start of <paramref name="datagram"/> and returns the bytes it used, or 0 when it
    /// is malformed (counted; the rest of the datagram is to be dropped). When it completes a packet,
    /// <paramref name="packet"/> holds it (a buffer of this joiner, valid until the next call) and
    /// <paramref name="length"/> its length; otherwise <paramref name="packet"/> is null.
    /// </summary>
    public int Take(ReadOnlySpan<byte> datagram, out byte[]? packet, out int length)
    {
        packet = null;
        length = 0;
        if (datagram.Length < LinkFrames.HeaderSize || datagram[0] != LinkFrames.SplitFormat || datagram[3] != 0)
        {
            Malformed++;
            return 0;
        }

        int index = datagram[1];
        int count = datagram[2];
        uint sender = BinaryPrimitives.ReadUInt32LittleEndian(datagram[4..]);
        uint frameId = BinaryPrimitives.ReadUInt32LittleEndian(datagram[8..]);
        uint total = BinaryPrimitives.ReadUInt32LittleEndian(datagram[12..]);
        int offset = BinaryPrimitives.ReadUInt16LittleEndian(datagram[16..]);
        int chunk = BinaryPrimitives.ReadUInt16LittleEndian(datagram[18..]);
        int used = LinkFrames.HeaderSize + chunk;
        if (count < 2 || count > LinkFrames.MaxChunks || index >= count || sender == 0 || sender >= (uint)_slots.Length
            || total > LinkFrames.MaxPacket || chunk == 0 || offset + chunk > total || used > datagram.Length
            // Every chunk but the last holds the same length at index × that length; the last ends the packet.
            || (index < count - 1 ? offset != index * chunk : offset + chunk != total))
        {
            Malformed++;
            return 0;
        }

        Slot slot = _slots[sender] ??= new Slot();
        if (!slot.Active || slot.FrameId != frameId)
        {
            if (slot.Active)
            {
                Incomplete++;
            }

            slot.Start(frameId, count, (int)total);
        }
        else if (slot.Count != count || slot.Total != total || (index < count - 1 && slot.Unit != 0 && slot.Unit != chunk))
        {
            // The same frame id cannot change shape: drop the frame.
            Malformed++;
            slot.Active = false;
            return used;
        }

        ulong bit = 1UL << index;
        if ((slot.Have & bit) != 0)
        {
            return used; // A duplicate chunk.
        }

        if (index < count - 1)
        {
            slot.Unit = chunk;
        }
        else
        {
            slot.LastOffset = offset;
        }

        datagram.Slice(LinkFrames.HeaderSize, chunk).CopyTo(slot.Buffer.AsSpan(offset));
        slot.Have |= bit;
        slot.Bytes += chunk;
        if (slot.Have != slot.All)
        {
            return used;
        }

        slot.Active = false;
        if (slot.Bytes != slot.Total || slot.LastOffset != (count - 1) * slot.Unit)
        {
            Malformed++; // Every chunk came, but they do not tile the packet: forged or broken.
            return used;
        }

        Joined++;
        packet = slot.Buffer;
        length = slot.Total;
        return used;
    }

    private sealed class Slot
    {
        public readonly byte[] Buffer = new byte[LinkFrames.MaxPacket];
        public bool Active;
        public uint FrameId;
        public int Count;
        public int Total;
        public ulong Have;
        public ulong All;
        public int Bytes;
        public int Unit;
        public int LastOffset;

        public void Start(uint frameId, int count, int total)
        {
            Active = true;
            FrameId = frameId;
            Count = count;
            Total = total;
            Have = 0;
            All = count == 64 ? ulong.MaxValue : (1UL << count) - 1;
            Bytes = 0;
            Unit = 0;
            LastOffset = 0;
        }
    }
}
