using Conclave.Protocol.Spread;

namespace Conclave.Protocol.Groups;

/// <summary>Builds the membership frames clients receive (spread-client-protocol.md §3.6).</summary>
public static class MembershipFrames
{
    /// <summary>Membership frames carry only the endian marker in the hint (message type 0).</summary>
    private const uint MembershipHint = MessageHeader.EndianMarker;

    /// <summary>A regular membership: type REG_MEMB_MESS | cause, sender = group, groups = members, body = id and vs-sets.</summary>
    public static byte[] Regular(string group, IReadOnlyList<string> members, GroupId groupId, ServiceType cause, IReadOnlyList<IReadOnlyList<string>> vsSets, int localVsSetIndex)
    {
        var body = new MembershipBody(groupId, vsSets, localVsSetIndex);
        var frame = new byte[FrameWriter.FrameSize(members.Count, body.Size)];
        int bodyAt = FrameWriter.FrameSize(members.Count, 0);
        FrameWriter.Write(frame, ServiceType.RegularMembership | cause, group, members, MembershipHint, []);
        body.Write(frame.AsSpan(bodyAt));
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(44), body.Size);
        return frame;
    }

    /// <summary>A transitional membership: type TRANSITION_MESS, sender = group, no groups, body = the 12-byte group id.</summary>
    public static byte[] Transitional(string group, GroupId groupId)
    {
        Span<byte> id = stackalloc byte[GroupId.Size];
        groupId.Write(id);
        return FrameWriter.Build(ServiceType.TransitionMembership, group, [], MembershipHint, id);
    }

    /// <summary>The self-leave notice: type CAUSED_BY_LEAVE alone, sender = group, nothing else.</summary>
    public static byte[] SelfLeave(string group) => FrameWriter.Build(ServiceType.CausedByLeave, group, [], MembershipHint, []);
}
