namespace Conclave.Protocol.Ring.Wire;

/// <summary>
/// A membership Join (ring-protocol.md §1.6). Body layout, big-endian (docs/ring-wire.md §5):
/// <code>
/// ring seq u64 | is leave u8 | proc count u16 | proc ids u32… | fail count u16 | fail ids u32…
/// </code>
/// Node lists are sorted ascending and contain no zero or duplicate.
/// </summary>
internal sealed record JoinMessage(uint Sender, ulong RingSeq, bool IsLeave, uint[] ProcSet, uint[] FailSet)
{
    public int BodySize => 8 + 1 + 2 + (ProcSet.Length * 4) + 2 + (FailSet.Length * 4);

    public void FormatBody(ref WireWriter w)
    {
        w.U64(RingSeq);
        w.U8(IsLeave ? (byte)1 : (byte)0);
        w.NodeList(ProcSet);
        w.NodeList(FailSet);
    }

    public static RingParseError TryParseBody(uint sender, ReadOnlySpan<byte> body, out JoinMessage? join)
    {
        join = null;
        var r = new WireReader(body);
        if (!r.TryU64(out ulong ringSeq) || !r.TryU8(out byte leave)) return RingParseError.Truncated;
        if (!r.TryNodeList(out uint[] procs) || !r.TryNodeList(out uint[] fails)) return RingParseError.BadField;
        if (r.Remaining != 0) return RingParseError.TrailingBytes;
        if (leave > 1) return RingParseError.BadField;
        join = new JoinMessage(sender, ringSeq, leave == 1, procs, fails);
        return RingParseError.None;
    }
}
