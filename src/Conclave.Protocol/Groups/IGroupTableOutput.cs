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
}
