using Conclave.Protocol.Spread;

namespace Conclave.Client.Flush.Internal;

/// <summary>
/// One Spread view of a group as the flush protocol tracks it: known from its membership message, from
/// FLUSH_OKs that name its group id, or both. Once installed it becomes the group's Flush view.
/// </summary>
internal sealed class SpreadChange(GroupId id)
{
    public GroupId Id { get; } = id;

    public bool MembershipReceived { get; set; }

    /// <summary>Members as Spread announced them (the view's order).</summary>
    public IReadOnlyList<string> Members { get; set; } = [];

    /// <summary>Members not yet known to have left since.</summary>
    public HashSet<string> Current { get; } = new(StringComparer.Ordinal);

    public HashSet<string> FlushOkSenders { get; } = new(StringComparer.Ordinal);

    public ServiceType Type { get; set; }

    public string? DeltaMember { get; set; }

    public int LocalIndex { get; set; } = -1;

    /// <summary>Spread memberships seen while only FLUSH_OKs were known (FL drops such stale entries).</summary>
    public int Age { get; set; }

    /// <summary>True once a transitional signal was delivered in this view.</summary>
    public bool InTransitional { get; set; }

    public static SpreadChange Empty() => new(default);

    public void Fill(MembershipMessage m)
    {
        MembershipReceived = true;
        Members = m.Members;
        Current.UnionWith(m.Members);
        Type = m.ServiceType & (ServiceType.MembershipMask | ServiceType.RegularMembership);
        DeltaMember = m.ChangedMember;
        LocalIndex = m.LocalIndex;
    }
}
