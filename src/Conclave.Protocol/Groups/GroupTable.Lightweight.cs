using Conclave.Protocol.Spread;

namespace Conclave.Protocol.Groups;

/// <summary>Join, leave and disconnect in the total order (ring-protocol.md §5.3, J1–J5).</summary>
public sealed partial class GroupTable
{
    private void HandleJoin(GroupMessage message, IGroupTableOutput output)
    {
        string joiner = message.Sender;
        string name = message.Groups[0];
        if (!TryDaemonOf(joiner, out string daemon, out int order))
        {
            return;
        }

        bool inTransition = State == GroupLayerState.Transitional;
        if (!_groups.TryGetValue(name, out Group? group))
        {
            group = new Group(name, inTransition ? TransId : RegId, 0);
            _groups.Add(name, group);
        }

        DaemonEntry? entry = group.Find(order);
        if (entry is null)
        {
            bool partitioned = inTransition && !TransMembers.Contains(daemon, StringComparer.Ordinal);
            entry = new DaemonEntry(daemon, order, partitioned ? null : group.MembId);
            group.Daemons.Add(order, entry);
        }

        if (!entry.Members.Add(joiner))
        {
            return; // A duplicate join changes nothing.
        }

        group.Index++;
        if (entry.MembId is null)
        {
            group.Changed = true;
        }

        if (group.Changed)
        {
            NotifyHeavyweight(group, output, lateJoiner: joiner);
        }
        else
        {
            NotifyLightweight(group, ServiceType.CausedByJoin, joiner, output);
        }
    }

    private void HandleLeave(GroupMessage message, IGroupTableOutput output)
    {
        string leaver = message.Sender;
        if (!TryDaemonOf(leaver, out _, out int order) || !_groups.TryGetValue(message.Groups[0], out Group? group))
        {
            return;
        }

        if (!group.Contains(leaver, order))
        {
            return; // Leaving a group one is not in changes nothing.
        }

        if (order == _selfOrder)
        {
            output.DeliverMembership(leaver, MembershipFrames.SelfLeave(group.Name));
        }

        RemoveMember(group, leaver, order, ServiceType.CausedByLeave, output);
    }

    private void HandleKill(GroupMessage message, IGroupTableOutput output)
    {
        string member = message.Sender;
        if (!TryDaemonOf(member, out _, out int order))
        {
            return;
        }

        // Group-name order: every daemon notifies in the same order.
        foreach (Group group in _groups.Values.ToList())
        {
            if (group.Contains(member, order))
            {
                if (order == _selfOrder)
                {
                    output.MembershipEnded(member, group.Name);
                }

                RemoveMember(group, member, order, ServiceType.CausedByDisconnect, output);
            }
        }
    }

    private void RemoveMember(Group group, string member, int order, ServiceType cause, IGroupTableOutput output)
    {
        DaemonEntry entry = group.Daemons[order];
        entry.Members.Remove(member);
        if (entry.Members.Count == 0)
        {
            group.Daemons.Remove(order);
        }

        if (group.IsEmpty)
        {
            _groups.Remove(group.Name);
            return;
        }

        group.Index++;
        if (group.Changed)
        {
            NotifyHeavyweight(group, output, lateJoiner: null);
        }
        else
        {
            NotifyLightweight(group, cause, member, output);
        }
    }

    /// <summary>A join/leave/disconnect view: one vs-set holding only the changed member (J3, J4).</summary>
    private void NotifyLightweight(Group group, ServiceType cause, string changedMember, IGroupTableOutput output)
    {
        if (group.Find(_selfOrder) is not { } local)
        {
            return;
        }

        group.TransitionSent = false;
        byte[] frame = MembershipFrames.Regular(group.Name, group.Members(), IdOf(group), cause, [[changedMember]], 0);
        foreach (string mailbox in local.Members)
        {
            output.DeliverMembership(mailbox, frame);
        }
    }

    /// <summary>
    /// A change during a transitional period: a network view with vs-sets, then a TRANSITION_MESS,
    /// since the group is still in transition (J3 "Changed" case, J4).
    /// </summary>
    private void NotifyHeavyweight(Group group, IGroupTableOutput output, string? lateJoiner)
    {
        if (group.Find(_selfOrder) is not { } local)
        {
            return;
        }

        (List<List<string>> sets, int localIndex, int joinerIndex) = VsSets.Compute(group, _selfOrder, lateJoiner);
        List<string> members = group.Members();
        GroupId id = IdOf(group);
        byte[] frame = MembershipFrames.Regular(group.Name, members, id, ServiceType.CausedByNetwork, sets, Math.Max(localIndex, 0));
        byte[]? joinerFrame = lateJoiner is not null && local.Members.Contains(lateJoiner)
            ? MembershipFrames.Regular(group.Name, members, id, ServiceType.CausedByNetwork, sets, joinerIndex)
            : null;
        byte[] transition = MembershipFrames.Transitional(group.Name, id);
        group.TransitionSent = true;
        foreach (string mailbox in local.Members)
        {
            bool isJoiner = joinerFrame is not null && string.Equals(mailbox, lateJoiner, StringComparison.Ordinal);
            output.DeliverMembership(mailbox, isJoiner ? joinerFrame! : frame);
            output.DeliverMembership(mailbox, transition);
        }
    }
}
