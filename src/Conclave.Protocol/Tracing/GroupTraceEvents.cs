using Conclave.Protocol.Spread;

namespace Conclave.Protocol.Tracing;

/// <summary>Turns the membership frames a group table sends to a client into group trace events.</summary>
public static class GroupTraceEvents
{
    /// <summary>
    /// The event for one membership frame (regular view, TRANSITION_MESS or self-leave) sent to
    /// <paramref name="client"/>; time, node and incarnation are left for the caller to stamp.
    /// </summary>
    public static TraceEvent Membership(string client, ReadOnlySpan<byte> frame)
    {
        MessageHeader header = MessageHeader.Parse(frame);
        string group = NameField.Read(MessageHeader.PrivateNameField(frame));
        var names = new string[header.NumGroups];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = NameField.Read(frame.Slice(MessageHeader.Size + (SpreadLimits.GroupNameSize * i), SpreadLimits.GroupNameSize));
        }

        ReadOnlySpan<byte> body = frame[(MessageHeader.Size + (SpreadLimits.GroupNameSize * header.NumGroups))..];
        if ((header.Type & ServiceType.RegularMembership) != 0 && MembershipBody.TryParse(body, bigEndian: false, out MembershipBody? view) && view is not null)
        {
            return new TraceEvent(TraceKind.GroupView, 0, 0, 0)
            {
                Client = client,
                Group = group,
                GroupId = view.GroupId,
                Names = names,
                Cause = CauseOf(header.Type),
                VsSets = [.. view.VsSets.Select(set => set.ToArray())],
                LocalVsSet = view.LocalVsSetIndex,
            };
        }

        if ((header.Type & ServiceType.TransitionMembership) != 0 && body.Length >= GroupId.Size)
        {
            return new TraceEvent(TraceKind.GroupTransition, 0, 0, 0) { Client = client, Group = group, GroupId = GroupId.Read(body, bigEndian: false) };
        }

        return new TraceEvent(TraceKind.GroupLeave, 0, 0, 0) { Client = client, Group = group };
    }

    private static string CauseOf(ServiceType type) =>
        (type & ServiceType.CausedByJoin) != 0 ? "join"
        : (type & ServiceType.CausedByLeave) != 0 ? "leave"
        : (type & ServiceType.CausedByDisconnect) != 0 ? "disconnect"
        : "network";
}
