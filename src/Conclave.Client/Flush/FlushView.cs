using Conclave.Protocol.Spread;

namespace Conclave.Client.Flush;

/// <summary>A new view of a group, installed once every member of it has flushed the previous one.</summary>
/// <remarks>
/// View synchrony: members that install this view after the same previous view delivered the same
/// messages in the previous view, and every message is delivered in the view in which it was sent.
/// </remarks>
public sealed class FlushView : FlushEvent
{
    internal FlushView(string group, IReadOnlyList<string> members, GroupId groupId, MembershipCause cause, IReadOnlyList<string> vsSet, int localIndex)
        : base(group)
    {
        Members = members;
        GroupId = groupId;
        Cause = cause;
        VsSet = vsSet;
        LocalIndex = localIndex;
    }

    /// <summary>Gets the members' private groups, in the order every member agrees on.</summary>
    public IReadOnlyList<string> Members { get; }

    /// <summary>Gets the identifier of the Spread view this view was installed for.</summary>
    public GroupId GroupId { get; }

    /// <summary>Gets the cause; several collapsed changes, or a change whose flush a departure cut short, report <see cref="MembershipCause.Network"/>.</summary>
    public MembershipCause Cause { get; }

    /// <summary>Gets the vs-set as Spread's Flush library reports it.</summary>
    /// <remarks>
    /// For a join, leave or disconnect, the one member that changed; for a network change, the members of
    /// this session's previous view that moved with it into this view, in the previous view's order.
    /// </remarks>
    public IReadOnlyList<string> VsSet { get; }

    /// <summary>Gets this session's position in <see cref="Members"/>.</summary>
    public int LocalIndex { get; }
}
