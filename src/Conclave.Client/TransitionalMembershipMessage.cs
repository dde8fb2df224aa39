using Conclave.Protocol.Spread;

namespace Conclave.Client;

/// <summary>
/// A transitional membership signal (TRANSITION_MESS): the group's view is about to change because the
/// daemons' membership changed; the regular view that follows says how.
/// </summary>
public sealed class TransitionalMembershipMessage : SpreadMessage
{
    internal TransitionalMembershipMessage(ServiceType serviceType, string group, GroupId groupId)
        : base(serviceType)
    {
        Group = group;
        GroupId = groupId;
    }

    /// <summary>Gets the group's name.</summary>
    public string Group { get; }

    /// <summary>Gets the identifier of the view being left.</summary>
    public GroupId GroupId { get; }
}
