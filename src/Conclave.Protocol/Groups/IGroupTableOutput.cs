namespace Conclave.Protocol.Groups;

/// <summary>Where the group table sends what it decides. The host maps private names to sessions.</summary>
public interface IGroupTableOutput
{
    /// <summary>Deliver a data message's frame to the local session <paramref name="mailbox"/>.</summary>
    void DeliverData(string mailbox, GroupMessage message);

    /// <summary>Deliver a membership frame (regular, transitional or self-leave) to a local session.</summary>
    void DeliverMembership(string mailbox, ReadOnlyMemory<byte> frame);

    /// <summary>Multicast a group-state message on the ordering layer (Agreed).</summary>
    void SubmitGroupsState(GroupsStateMessage state);

    /// <summary>
    /// Observation only (traces): a data message was applied; <paramref name="recipients"/> are the
    /// local sessions it went to, possibly none. Hosts that do not trace ignore it.
    /// </summary>
    void DataApplied(GroupMessage message, IReadOnlyCollection<string> recipients)
    {
    }

    /// <summary>
    /// Observation only (traces): the local session <paramref name="mailbox"/> stopped being a member
    /// of <paramref name="group"/> without a message to it (it disconnected).
    /// </summary>
    void MembershipEnded(string mailbox, string group)
    {
    }
}
