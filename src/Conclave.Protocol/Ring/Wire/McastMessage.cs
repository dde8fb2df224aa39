namespace Conclave.Protocol.Ring.Wire;

/// <summary>
/// A regular data message (ring-protocol.md §1.4). Body layout, big-endian (docs/ring-wire.md §3):
/// <code>
/// ring rep u32 | ring seq u64 | seq u64 | originator u32 | orig incarnation u64 | orig seq u64
/// | service u8 | frag index u16 | frag count u16 | payload length u32 | payload
/// </code>
/// When the header's Encapsulated flag is set, the payload is the body of an old-ring Mcast (§3.4).
/// </summary>
internal sealed class McastMessage(RingId ring, ulong seq, uint originator, ulong originatorIncarnation, ulong originatorSeq, RingService service, byte[] payload, bool encapsulated)
{
    public const int FixedSize = 4 + 8 + 8 + 4 + 8 + 8 + 1 + 2 + 2 + 4;

    public RingId Ring { get; } = ring;
    public ulong Seq { get; } = seq;
    /// <summary>Node that first sent the message (the retransmitter's id on an encapsulating outer message).</summary>
    public uint Originator { get; } = originator;
    public ulong OriginatorIncarnation { get; } = originatorIncarnation;
    /// <summary>Per-incarnation counter of the originator, the message identity used by traces.</summary>
    public ulong OriginatorSeq { get; } = originatorSeq;
    public RingService Service { get; } = service;
    public byte[] Payload { get; } = payload;
    public bool Encapsulated { get; } = encapsulated;

    public int BodySize => FixedSize + Payload.Length;

    public void FormatBody(ref WireWriter w)
    {
        w.RingId(Ring);
        w.U64(Seq);
        w.U32(Originator);
        w.U64(OriginatorIncarnation);
        w.U64(OriginatorSeq);
        w.U8((byte)Service);
        w.U16(0);
        w.U16(1);
        w.U32((uint)Payload.Length);
        w.Bytes(Payload);
    }

    public byte[] FormatBody()
    {
        var buffer = new byte[BodySize];
        var w = new WireWriter(buffer);
        FormatBody(ref w);
        return buffer;
    }

    public static RingParseError TryParseBody(ReadOnlySpan<byte> body, bool encapsulated, out McastMessage? message)
    {
        message = null;
        var r = new WireReader(body);
        if (!r.TryRingId(out RingId ring) || !r.TryU64(out ulong seq) || !r.TryU32(out uint orig) || !r.TryU64(out ulong inc)
            || !r.TryU64(out ulong origSeq) || !r.TryU8(out byte service) || !r.TryU16(out ushort fragIndex) || !r.TryU16(out ushort fragCount)
            || !r.TryU32(out uint length) || length > int.MaxValue || !r.TryBytes((int)length, out ReadOnlySpan<byte> payload))
        {
            return RingParseError.Truncated;
        }
        if (r.Remaining != 0) return RingParseError.TrailingBytes;
        if (service is < (byte)RingService.Reliable or > (byte)RingService.Safe || orig == 0 || seq == 0 || fragCount != 1 || fragIndex != 0)
        {
            return RingParseError.BadField;
        }
        message = new McastMessage(ring, seq, orig, inc, origSeq, (RingService)service, payload.ToArray(), encapsulated);
        return RingParseError.None;
    }
}
