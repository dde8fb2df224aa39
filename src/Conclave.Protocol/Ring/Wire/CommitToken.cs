namespace Conclave.Protocol.Ring.Wire;

/// <summary>One member's entry in the commit token (ring-protocol.md §1.7).</summary>
internal struct CommitEntry
{
    public bool Filled;
    public RingId OldRingId;
    public ulong MyAru;
    public ulong HighDelivered;
    public bool ReceivedFlag;
    public ulong StableSeq;
}

/// <summary>
/// The commit token (ring-protocol.md §1.7). Body layout, big-endian (docs/ring-wire.md §6):
/// <code>
/// new rep u32 | new seq u64 | token seq u64 | member count u16 | member index u16 | member ids u32…
/// | per member: filled u8 | old rep u32 | old seq u64 | my aru u64 | high delivered u64 | received u8 | stable u64
/// </code>
/// </summary>
internal sealed class CommitToken
{
    public const int EntrySize = 1 + 4 + 8 + 8 + 8 + 1 + 8;

    public CommitToken(RingId newRingId, uint[] members)
    {
        NewRingId = newRingId;
        Members = members;
        Entries = new CommitEntry[members.Length];
    }

    public RingId NewRingId { get; }
    public ulong TokenSeq { get; set; }
    public uint[] Members { get; }
    public int MemberIndex { get; set; }
    public CommitEntry[] Entries { get; }

    public int BodySize => 4 + 8 + 8 + 2 + 2 + (Members.Length * (4 + EntrySize));

    public void FormatBody(ref WireWriter w)
    {
        w.RingId(NewRingId);
        w.U64(TokenSeq);
        w.U16((ushort)Members.Length);
        w.U16((ushort)MemberIndex);
        foreach (uint m in Members) w.U32(m);
        foreach (CommitEntry e in Entries)
        {
            w.U8(e.Filled ? (byte)1 : (byte)0);
            w.RingId(e.OldRingId);
            w.U64(e.MyAru);
            w.U64(e.HighDelivered);
            w.U8(e.ReceivedFlag ? (byte)1 : (byte)0);
            w.U64(e.StableSeq);
        }
    }

    public static RingParseError TryParseBody(ReadOnlySpan<byte> body, out CommitToken? token)
    {
        token = null;
        var r = new WireReader(body);
        if (!r.TryRingId(out RingId ring) || !r.TryU64(out ulong tokenSeq) || !r.TryU16(out ushort count) || !r.TryU16(out ushort index))
        {
            return RingParseError.Truncated;
        }
        if (count == 0 || index > count) return RingParseError.BadField;
        if (r.Remaining != count * (4 + EntrySize)) return r.Remaining < count * (4 + EntrySize) ? RingParseError.Truncated : RingParseError.TrailingBytes;
        var members = new uint[count];
        for (int i = 0; i < count; i++)
        {
            r.TryU32(out members[i]);
            if (members[i] == 0 || (i > 0 && members[i] <= members[i - 1])) return RingParseError.BadField;
        }
        var t = new CommitToken(ring, members) { TokenSeq = tokenSeq, MemberIndex = index };
        for (int i = 0; i < count; i++)
        {
            ref CommitEntry e = ref t.Entries[i];
            r.TryU8(out byte filled);
            r.TryRingId(out e.OldRingId);
            r.TryU64(out e.MyAru);
            r.TryU64(out e.HighDelivered);
            r.TryU8(out byte received);
            r.TryU64(out e.StableSeq);
            if (filled > 1 || received > 1) return RingParseError.BadField;
            e.Filled = filled == 1;
            e.ReceivedFlag = received == 1;
        }
        token = t;
        return RingParseError.None;
    }
}
