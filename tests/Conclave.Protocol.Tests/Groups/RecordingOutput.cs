using Conclave.Protocol.Groups;
using Conclave.Protocol.Spread;

namespace Conclave.Protocol.Tests.Groups;

/// <summary>Collects what a group table sends, decoded, per mailbox.</summary>
internal sealed class RecordingOutput : IGroupTableOutput
{
    public List<(string Mailbox, ClientEvent Event)> Events { get; } = [];

    public List<GroupsStateMessage> Submitted { get; } = [];

    public IEnumerable<ClientEvent> For(string mailbox) => Events.Where(e => e.Mailbox == mailbox).Select(e => e.Event);

    public void DeliverData(string mailbox, GroupMessage message) =>
        Events.Add((mailbox, ClientEvent.Decode(message.Frame.ToArray())));

    public void DeliverMembership(string mailbox, ReadOnlyMemory<byte> frame) =>
        Events.Add((mailbox, ClientEvent.Decode(frame.ToArray())));

    public void SubmitGroupsState(GroupsStateMessage state) => Submitted.Add(state);
}

/// <summary>A decoded frame as a client would see it.</summary>
internal sealed record ClientEvent(ServiceType Type, string Sender, IReadOnlyList<string> Groups, MembershipBody? Membership, GroupId? TransitionId)
{
    public bool IsTransition => (Type & ServiceType.TransitionMembership) != 0;

    public bool IsRegular => (Type & ServiceType.RegularMembership) != 0;

    public bool IsSelfLeave => ServiceTypeRules.IsSelfLeave(Type);

    public IReadOnlyList<string> LocalVsSet => Membership!.VsSets[Membership.LocalVsSetIndex];

    public static ClientEvent Decode(byte[] frame)
    {
        MessageHeader header = MessageHeader.Parse(frame);
        string sender = NameField.Read(MessageHeader.PrivateNameField(frame));
        var groups = new List<string>();
        for (int i = 0; i < header.NumGroups; i++)
        {
            groups.Add(NameField.Read(frame.AsSpan(MessageHeader.Size + (32 * i), 32)));
        }

        ReadOnlySpan<byte> body = frame.AsSpan(MessageHeader.Size + (32 * header.NumGroups));
        MembershipBody? membership = null;
        GroupId? transition = null;
        if ((header.Type & ServiceType.RegularMembership) != 0)
        {
            Assert.True(MembershipBody.TryParse(body, bigEndian: false, out membership));
        }
        else if ((header.Type & ServiceType.TransitionMembership) != 0)
        {
            Assert.Equal(GroupId.Size, body.Length);
            transition = GroupId.Read(body, bigEndian: false);
        }

        return new ClientEvent(header.Type, sender, groups, membership, transition);
    }
}
