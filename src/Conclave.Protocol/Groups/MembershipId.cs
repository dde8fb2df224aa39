namespace Conclave.Protocol.Groups;

/// <summary>
/// The identifier of a daemon configuration (regular or transitional) as the group layer sees it:
/// the representative's address and a value unique to that configuration. It is the first two words
/// of every client-visible <see cref="Spread.GroupId"/>.
/// </summary>
public readonly record struct MembershipId(int ProcId, int Time) : IComparable<MembershipId>
{
    /// <summary>Orders by the wire pair (proc_id, then time), as Spread's G_compare_memb_ids.</summary>
    public int CompareTo(MembershipId other)
    {
        int byProc = ProcId.CompareTo(other.ProcId);
        return byProc != 0 ? byProc : Time.CompareTo(other.Time);
    }

    /// <summary>Whether the left membership id precedes the right one.</summary>
    public static bool operator <(MembershipId left, MembershipId right) => left.CompareTo(right) < 0;
    /// <summary>Whether the left membership id follows the right one.</summary>
    public static bool operator >(MembershipId left, MembershipId right) => left.CompareTo(right) > 0;
    /// <summary>Whether the left membership id precedes or equals the right one.</summary>
    public static bool operator <=(MembershipId left, MembershipId right) => left.CompareTo(right) <= 0;
    /// <summary>Whether the left membership id follows or equals the right one.</summary>
    public static bool operator >=(MembershipId left, MembershipId right) => left.CompareTo(right) >= 0;

    /// <inheritdoc />
    public override string ToString() => $"{(uint)ProcId}.{(uint)Time}";
}
