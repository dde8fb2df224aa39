using Conclave.Protocol.Spread;

namespace Conclave.Protocol.Groups;

/// <summary>Daemon configuration changes and the group-state exchange (ring-protocol.md §5.4, N0–N11).</summary>
public sealed partial class GroupTable
{
    private readonly SortedDictionary<string, GroupsStateMessage> _collected = new(StringComparer.Ordinal);
    private List<string> _syncedSet;
    private int _daemonsGathered;
    private (IReadOnlyList<string> Members, MembershipId Id)? _pendingTransitional;

    /// <summary>The daemons whose group state is known to equal this one's, in configuration order.</summary>
    public IReadOnlyList<string> SyncedSet => _syncedSet;

    /// <summary>A transitional configuration was delivered: <paramref name="members"/> continue together.</summary>
    public void OnTransitional(IReadOnlyList<string> members, MembershipId transId, IGroupTableOutput output)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(output);
        switch (State)
        {
            case GroupLayerState.Operational:
                ApplyTransitional(members, transId, output);
                break;
            case GroupLayerState.Gathering:
                // N8: remember it; clients get their TRANSITION_MESS once the exchange settles.
                TransMembers = SortByOrder(members);
                TransId = transId;
                _pendingTransitional = (TransMembers, transId);
                MarkGroupsLosingDaemons();
                State = GroupLayerState.GatheringTransitional;
                break;
            default:
                // Two transitional configurations in a row: the ring never does this; keep the newest.
                TransMembers = SortByOrder(members);
                TransId = transId;
                break;
        }
    }

    /// <summary>A regular configuration of <paramref name="members"/> was installed.</summary>
    public void OnRegular(IReadOnlyList<string> members, MembershipId regId, IGroupTableOutput output)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(output);
        if (State == GroupLayerState.Operational)
        {
            // The ring always delivers a transitional configuration first; synthesise one if not.
            ApplyTransitional([.. RegMembers.Intersect(members, StringComparer.Ordinal)], regId, output);
        }

        List<string> sorted = SortByOrder(members);
        if (State == GroupLayerState.GatheringTransitional)
        {
            RestartExchange(sorted, regId, output);
            return;
        }

        InstallRegular(sorted, regId, output);
    }

    /// <summary>N8: groups with a daemon outside the cascaded transitional configuration need a network view.</summary>
    private void MarkGroupsLosingDaemons()
    {
        foreach (Group group in _groups.Values)
        {
            if (group.Daemons.Values.Any(d => !TransMembers.Contains(d.Daemon, StringComparer.Ordinal)))
            {
                group.Changed = true;
            }
        }
    }

    /// <summary>N3: the regular configuration after a transitional one.</summary>
    private void InstallRegular(List<string> members, MembershipId regId, IGroupTableOutput output)
    {
        RegMembers = members;
        RegId = regId;

        // Nobody new, and my synced set already spans the configuration (an interrupted exchange
        // leaves it smaller): no exchange is needed.
        if (_syncedSet.Count == RegMembers.Count)
        {
            FinishSubtractive(output);
            return;
        }

        // N3, a merge: drop partitioned daemons, then exchange state with the others.
        RemovePartitionedDaemons();
        BeginExchange(output);
    }

    /// <summary>N1: mark daemons that left, warn local members, and enter the transitional period.</summary>
    private void ApplyTransitional(IReadOnlyList<string> members, MembershipId transId, IGroupTableOutput output)
    {
        TransMembers = SortByOrder(members);
        TransId = transId;
        foreach (Group group in _groups.Values)
        {
            bool lost = false;
            foreach (DaemonEntry entry in group.Daemons.Values)
            {
                if (!TransMembers.Contains(entry.Daemon, StringComparer.Ordinal))
                {
                    entry.MembId = null;
                    lost = true;
                }
            }

            if (!lost)
            {
                continue; // N0: untouched groups hear nothing.
            }

            SendTransition(group, output);
            group.MembId = transId;
            group.Index = 1;
            group.Changed = true;
            foreach (DaemonEntry entry in group.Daemons.Values)
            {
                if (entry.MembId is not null)
                {
                    entry.MembId = transId;
                }
            }
        }

        _syncedSet = [.. _syncedSet.Where(d => TransMembers.Contains(d, StringComparer.Ordinal))];
        State = GroupLayerState.Transitional;
    }

    /// <summary>N3, purely subtractive: no exchange is needed; changed groups get their network view.</summary>
    private void FinishSubtractive(IGroupTableOutput output)
    {
        RemovePartitionedDaemons();
        NotifyNetworkViews(output);
        State = GroupLayerState.Operational;
    }

    private void BeginExchange(IGroupTableOutput output)
    {
        _collected.Clear();
        _daemonsGathered = 0;
        State = GroupLayerState.Gathering;
        if (IsSyncedSetLeader)
        {
            output.SubmitGroupsState(BuildState());
        }
    }

    /// <summary>N10: a regular configuration arrived before the exchange finished.</summary>
    /// <remarks>
    /// Only complete sets are merged, and only when my own set's report arrived too; no view is
    /// given for them (the next exchange gives it). Then the cascaded transitional configuration
    /// is applied and the exchange starts again for <paramref name="members"/>. No client request
    /// was applied meanwhile (J6), so every table of one synced set is still the same.
    /// </remarks>
    private void RestartExchange(List<string> members, MembershipId regId, IGroupTableOutput output)
    {
        bool ownSetComplete = _syncedSet.Count > 0 && _collected.ContainsKey(_syncedSet[0]);
        if (ownSetComplete)
        {
            MergeCollected();
        }

        _collected.Clear();
        (IReadOnlyList<string> Members, MembershipId Id) transitional = _pendingTransitional ?? (TransMembers, TransId);
        _pendingTransitional = null;
        State = GroupLayerState.Operational;
        ApplyTransitional(transitional.Members, transitional.Id, output);
        InstallRegular(members, regId, output);
    }

    private void HandleGroupsState(GroupMessage message, IGroupTableOutput output)
    {
        GroupsStateMessage? state = message.State;
        if (state is null || !IsExchanging || state.RegId != RegId || _collected.ContainsKey(message.Sender))
        {
            DroppedMessages++; // Stale (another configuration's exchange) or duplicated.
            return;
        }

        _collected.Add(message.Sender, state);
        _daemonsGathered += state.SyncedSet.Count;
        if (_daemonsGathered < RegMembers.Count)
        {
            return;
        }

        MergeCollected();
        _collected.Clear();
        if (_pendingTransitional is not null)
        {
            // Groups that came in the reports lose daemons too: mark them as every daemon marked its own.
            MarkGroupsLosingDaemons();
        }

        NotifyNetworkViews(output);
        State = GroupLayerState.Operational;

        // N9: the cascaded transitional configuration follows, so clients see TRANSITION before the next view.
        if (_pendingTransitional is { } pending)
        {
            _pendingTransitional = null;
            ApplyTransitional(pending.Members, pending.Id, output);
        }
    }

    /// <summary>N6: fold the other synced sets' tables into mine.</summary>
    /// <remarks>
    /// Each set is the authority on its own daemons: what I hold about them (from before a
    /// partition) is replaced by their report. A group that two sets report with different ids is
    /// changed at every daemon, since every daemon sees the same reports and its own set's report
    /// equals its own state.
    /// </remarks>
    private void MergeCollected()
    {
        string myLeader = _syncedSet.Count > 0 ? _syncedSet[0] : Self;
        ForgetReportedDaemons(myLeader);
        foreach ((string leader, GroupsStateMessage state) in _collected)
        {
            if (string.Equals(leader, myLeader, StringComparison.Ordinal))
            {
                continue;
            }

            foreach (GroupState reported in state.Groups)
            {
                if (!_groups.TryGetValue(reported.Name, out Group? group))
                {
                    group = new Group(reported.Name, reported.MembId, reported.Index);
                    _groups.Add(reported.Name, group);
                }
                else if (group.MembId != reported.MembId || group.Index != reported.Index)
                {
                    group.Changed = true;
                }

                if (reported.Changed)
                {
                    group.Changed = true;
                }

                foreach (DaemonState daemon in reported.Daemons)
                {
                    if (!_daemonOrder.TryGetValue(daemon.Daemon, out int order))
                    {
                        DroppedMessages++;
                        continue;
                    }

                    DaemonEntry entry = new(daemon.Daemon, order, daemon.MembId);
                    entry.Members.UnionWith(daemon.Members);
                    group.Daemons[order] = entry;
                    if (daemon.MembId != group.MembId)
                    {
                        group.Changed = true;
                    }
                }
            }

            foreach (string daemon in state.SyncedSet)
            {
                if (!_syncedSet.Contains(daemon, StringComparer.Ordinal))
                {
                    _syncedSet.Add(daemon);
                }
            }
        }

        _syncedSet = SortByOrder(_syncedSet);
    }

    /// <summary>Drops my entries for daemons another collected set reports, and groups left empty.</summary>
    private void ForgetReportedDaemons(string myLeader)
    {
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string leader, GroupsStateMessage state) in _collected)
        {
            if (!string.Equals(leader, myLeader, StringComparison.Ordinal))
            {
                reported.UnionWith(state.SyncedSet.Where(d => !string.Equals(d, Self, StringComparison.Ordinal)));
            }
        }

        if (reported.Count == 0)
        {
            return;
        }

        foreach (Group group in _groups.Values.ToList())
        {
            foreach (DaemonEntry entry in group.Daemons.Values.ToList())
            {
                if (reported.Contains(entry.Daemon))
                {
                    group.Daemons.Remove(entry.Order);
                }
            }

            if (group.IsEmpty)
            {
                _groups.Remove(group.Name); // It has no local members: nobody here is told.
            }
        }
    }

    /// <summary>N3/N7: every changed group gets its network view, with vs-sets of the previous configurations.</summary>
    private void NotifyNetworkViews(IGroupTableOutput output)
    {
        foreach (Group group in _groups.Values)
        {
            if (!group.Changed)
            {
                continue;
            }

            (List<List<string>> sets, int localIndex, _) = VsSets.Compute(group, _selfOrder, lateJoiner: null);
            group.MembId = RegId;
            group.Index = 1;
            group.Changed = false;
            group.TransitionSent = false;
            foreach (DaemonEntry entry in group.Daemons.Values)
            {
                entry.MembId = RegId;
            }

            if (group.Find(_selfOrder) is { } local)
            {
                byte[] frame = MembershipFrames.Regular(group.Name, group.Members(), IdOf(group), ServiceType.CausedByNetwork, sets, Math.Max(localIndex, 0));
                foreach (string mailbox in local.Members)
                {
                    output.DeliverMembership(mailbox, frame);
                }
            }
        }
    }

    /// <summary>TRANSITION_MESS with the group's current id, at most once between two views.</summary>
    private void SendTransition(Group group, IGroupTableOutput output)
    {
        if (group.TransitionSent)
        {
            return;
        }

        group.TransitionSent = true;
        if (group.Find(_selfOrder) is { } local)
        {
            byte[] transition = MembershipFrames.Transitional(group.Name, IdOf(group));
            foreach (string mailbox in local.Members)
            {
                output.DeliverMembership(mailbox, transition);
            }
        }
    }

    private void RemovePartitionedDaemons(IReadOnlyList<string>? keep = null)
    {
        foreach (Group group in _groups.Values.ToList())
        {
            foreach (DaemonEntry entry in group.Daemons.Values.ToList())
            {
                bool gone = keep is null ? entry.MembId is null : !keep.Contains(entry.Daemon, StringComparer.Ordinal);
                if (gone)
                {
                    group.Daemons.Remove(entry.Order);
                    group.Changed = true;
                }
            }

            if (group.IsEmpty)
            {
                _groups.Remove(group.Name);
            }
        }
    }

    private bool IsSyncedSetLeader => _syncedSet.Count == 0 || string.Equals(_syncedSet[0], Self, StringComparison.Ordinal);

    private GroupsStateMessage BuildState()
    {
        var groups = new List<GroupState>(_groups.Count);
        foreach (Group group in _groups.Values)
        {
            var daemons = group.Daemons.Values
                .Where(d => _syncedSet.Contains(d.Daemon, StringComparer.Ordinal) || d.Daemon == Self)
                .Select(d => new DaemonState(d.Daemon, d.MembId, [.. d.Members]))
                .ToList();
            if (daemons.Count == 0)
            {
                continue; // Only the sets holding its daemons speak for a group.
            }

            groups.Add(new GroupState(group.Name, group.MembId, group.Index, group.Changed, daemons));
        }

        return new GroupsStateMessage(RegId, [.. _syncedSet], groups);
    }

    private List<string> SortByOrder(IEnumerable<string> daemons) =>
        [.. daemons.Where(_daemonOrder.ContainsKey).Distinct(StringComparer.Ordinal).OrderBy(d => _daemonOrder[d])];
}
