namespace Conclave.Protocol.Ring;

/// <summary>
/// Identifies a ring (ring-protocol.md §1.2): the representative's node id and a sequence number
/// that strictly grows from ring to ring. Ordered by <see cref="Seq"/>, then by <see cref="Rep"/>.
/// </summary>
/// <param name="Rep">The representative: the lowest node id of the ring.</param>
/// <param name="Seq">The ring sequence number.</param>
public readonly record struct RingId(uint Rep, ulong Seq) : IComparable<RingId>
{
    /// <summary>Compares by sequence number, then by representative.</summary>
    public int CompareTo(RingId other)
    {
        int c = Seq.CompareTo(other.Seq);
        return c != 0 ? c : Rep.CompareTo(other.Rep);
    }

    /// <summary>Returns true if <paramref name="left"/> orders before <paramref name="right"/>.</summary>
    public static bool operator <(RingId left, RingId right) => left.CompareTo(right) < 0;

    /// <summary>Returns true if <paramref name="left"/> orders after <paramref name="right"/>.</summary>
    public static bool operator >(RingId left, RingId right) => left.CompareTo(right) > 0;

    /// <summary>Returns true if <paramref name="left"/> orders before or equals <paramref name="right"/>.</summary>
    public static bool operator <=(RingId left, RingId right) => left.CompareTo(right) <= 0;

    /// <summary>Returns true if <paramref name="left"/> orders after or equals <paramref name="right"/>.</summary>
    public static bool operator >=(RingId left, RingId right) => left.CompareTo(right) >= 0;

    /// <summary>Formats as <c>rep:seq</c>.</summary>
    public override string ToString() => $"{Rep}:{Seq}";
}
