using Conclave.Protocol.Spread;

namespace Conclave.Client;

/// <summary>A regular membership message: a new view of a group (REG_MEMB_MESS with a cause).</summary>
public sealed class MembershipMessage : SpreadMessage
{
    internal MembershipMessage(
        ServiceType serviceType,
        string group,
        IReadOnlyList<string> members,
        GroupId groupId,
        IReadOnlyList<IReadOnlyList<string>> vsSets,
        int localVsSetIndex,
        int localIndex)
        : base(serviceType)
    {
        Group = group;
        Members = members;
        GroupId = groupId;
        VsSets = vsSets;
        LocalVsSetIndex = localVsSetIndex;
        LocalIndex = localIndex;
    }

    /// <summary>Gets the group's name.</summary>
    public string Group { get; }

    /// <summary>Gets the members' private groups, in the order every daemon agrees on.</summary>
    public IReadOnlyList<string> Members { get; }

    /// <summary>Gets the view's identifier.</summary>
    public GroupId GroupId { get; }

    /// <summary>Gets the cause of the change.</summary>
    public MembershipCause Cause => (ServiceType & ServiceType.CausedByNetwork) != 0 ? MembershipCause.Network
        : (ServiceType & ServiceType.CausedByDisconnect) != 0 ? MembershipCause.Disconnect
        : (ServiceType & ServiceType.CausedByLeave) != 0 ? MembershipCause.Leave
        : MembershipCause.Join;

    /// <summary>Gets the virtual-synchrony sets: the members that moved together from their previous views.</summary>
    /// <remarks>A join, leave or disconnect carries a single set holding only the changed member.</remarks>
    public IReadOnlyList<IReadOnlyList<string>> VsSets { get; }

    /// <summary>Gets the index in <see cref="VsSets"/> of the receiver's own set.</summary>
    public int LocalVsSetIndex { get; }

    /// <summary>Gets the receiver's own vs-set (empty if the view has none).</summary>
    public IReadOnlyList<string> LocalVsSet => VsSets.Count > LocalVsSetIndex ? VsSets[LocalVsSetIndex] : [];

    /// <summary>Gets the member that joined, left or disconnected, or null for a network change.</summary>
    public string? ChangedMember => Cause != MembershipCause.Network && VsSets.Count > 0 && VsSets[0].Count > 0 ? VsSets[0][0] : null;

    /// <summary>Gets the receiver's position in <see cref="Members"/> (libspread returns it as the message type), or -1.</summary>
    public int LocalIndex { get; }
}
