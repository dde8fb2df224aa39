namespace Conclave.Protocol.Ring.Wire;

/// <summary>One retransmission request on the token.</summary>
internal readonly record struct RtrEntry(RingId Ring, ulong Seq);

/// <summary>
/// The regular token (ring-protocol.md §1.5); mutable because the holder updates it in place (§2.2).
/// Body layout, big-endian (docs/ring-wire.md §4):
/// <code>
/// ring rep u32 | ring seq u64 | token seq u64 | seq u64 | aru u64 | aru id u32 | fcc u32 | backlog u32
/// | retrans flag u8 | rtr count u16 | rtr count × (ring rep u32 | ring seq u64 | seq u64)
/// </code>
/// </summary>
internal sealed class OrfToken
{
    public const int FixedSize = 4 + 8 + 8 + 8 + 8 + 4 + 4 + 4 + 1 + 2;
    public const int RtrEntrySize = 20;

    public RingId Ring { get; set; }
    public ulong TokenSeq { get; set; }
    public ulong Seq { get; set; }
    public ulong Aru { get; set; }
    public uint AruId { get; set; }
    public uint Fcc { get; set; }
    public uint Backlog { get; set; }
    public bool RetransFlag { get; set; }
    public List<RtrEntry> Rtr { get; } = [];

    public int BodySize => FixedSize + (Rtr.Count * RtrEntrySize);

    public void FormatBody(ref WireWriter w)
    {
        w.RingId(Ring);
        w.U64(TokenSeq);
        w.U64(Seq);
        w.U64(Aru);
        w.U32(AruId);
        w.U32(Fcc);
        w.U32(Backlog);
        w.U8(RetransFlag ? (byte)1 : (byte)0);
        w.U16((ushort)Rtr.Count);
        foreach (RtrEntry e in Rtr)
        {
            w.RingId(e.Ring);
            w.U64(e.Seq);
        }
    }

    public static RingParseError TryParseBody(ReadOnlySpan<byte> body, out OrfToken? token) => TryParseBody(body, null, out token);

    /// <summary>Parses into <paramref name="reuse"/> when given (a host's one scratch token: tokens are never kept).</summary>
    public static RingParseError TryParseBody(ReadOnlySpan<byte> body, OrfToken? reuse, out OrfToken? token)
    {
        token = null;
        var r = new WireReader(body);
        if (!r.TryRingId(out RingId ring) || !r.TryU64(out ulong tokenSeq) || !r.TryU64(out ulong seq) || !r.TryU64(out ulong aru)
            || !r.TryU32(out uint aruId) || !r.TryU32(out uint fcc) || !r.TryU32(out uint backlog) || !r.TryU8(out byte flag)
            || !r.TryU16(out ushort count) || r.Remaining < count * RtrEntrySize)
        {
            return RingParseError.Truncated;
        }
        if (flag > 1 || aru > seq) return RingParseError.BadField;
        OrfToken t = reuse ?? new OrfToken();
        t.Ring = ring;
        t.TokenSeq = tokenSeq;
        t.Seq = seq;
        t.Aru = aru;
        t.AruId = aruId;
        t.Fcc = fcc;
        t.Backlog = backlog;
        t.RetransFlag = flag == 1;
        t.Rtr.Clear();
        for (int i = 0; i < count; i++)
        {
            r.TryRingId(out RingId rtrRing);
            r.TryU64(out ulong rtrSeq);
            t.Rtr.Add(new RtrEntry(rtrRing, rtrSeq));
        }
        if (r.Remaining != 0) return RingParseError.TrailingBytes;
        token = t;
        return RingParseError.None;
    }
}
