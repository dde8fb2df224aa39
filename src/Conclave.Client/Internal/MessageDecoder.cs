using Conclave.Protocol.Spread;

namespace Conclave.Client.Internal;

/// <summary>Turns a received frame into a <see cref="SpreadMessage"/> (spread-client-protocol.md §3.5–§3.7).</summary>
internal static class MessageDecoder
{
    public static SpreadMessage Decode(in SpreadFrame frame, string ownPrivateGroup)
    {
        ServiceType type = frame.ServiceType;
        if ((type & ServiceType.Reject) != 0)
        {
            // header | old_type (4, daemon order) | names | body; libspread reports old_type | REJECT_MESS.
            ServiceType old = frame.RejectedType;
            return new RejectMessage(old | ServiceType.Reject, old, frame.Sender, ReadGroups(frame), frame.MessageType, frame.Body.ToArray());
        }

        if ((type & ServiceType.RegularMembership) != 0)
        {
            return DecodeView(frame, ownPrivateGroup);
        }

        if ((type & ServiceType.TransitionMembership) != 0)
        {
            // Body = the 12-byte group id of the view being left, in the daemon's order.
            ReadOnlySpan<byte> body = frame.Body.Span;
            if (body.Length < GroupId.Size)
            {
                ThrowMalformed("a transitional membership without a group id");
            }

            return new TransitionalMembershipMessage(type, frame.Sender, GroupId.Read(body, frame.Header.WriterWasBigEndian));
        }

        if (ServiceTypeRules.IsSelfLeave(type))
        {
            return new SelfLeaveMessage(type, frame.Sender);
        }

        return new DataMessage(type, frame.Sender, ReadGroups(frame), frame.MessageType, frame.EndianMismatch, frame.Body.ToArray());
    }

    /*
     * Regular membership body (§3.6), all uint32 in the daemon's byte order:
     *   gid (proc_id, time, index: 12) | num_vs_sets (4) | receiver's vs-set offset from byte 20 (4)
     *   | vs-sets: count (4) + count × 32-byte names
     * The header's name field is the group; its name list is the members.
     */
    private static MembershipMessage DecodeView(in SpreadFrame frame, string ownPrivateGroup)
    {
        if (!MembershipBody.TryParse(frame.Body.Span, frame.Header.WriterWasBigEndian, out MembershipBody? body) || body is null)
        {
            ThrowMalformed("a regular membership with a malformed body");
            return null!;
        }

        string[] members = ReadGroups(frame);
        int local = Array.IndexOf(members, ownPrivateGroup);
        return new MembershipMessage(frame.ServiceType, frame.Sender, members, body.GroupId, body.VsSets, body.LocalVsSetIndex, local);
    }

    private static string[] ReadGroups(in SpreadFrame frame)
    {
        if (frame.GroupCount == 0)
        {
            return [];
        }

        var groups = new string[frame.GroupCount];
        for (int i = 0; i < groups.Length; i++)
        {
            groups[i] = frame.Group(i);
        }

        return groups;
    }

    private static void ThrowMalformed(string what) =>
        throw new SpreadException(SpreadError.IllegalMessage, $"The daemon sent {what}.");
}
