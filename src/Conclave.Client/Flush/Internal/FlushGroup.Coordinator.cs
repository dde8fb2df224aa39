using Conclave.Protocol.Spread;

namespace Conclave.Client.Flush.Internal;

/*
 * The coordinator exchange of agreed-only groups (docs/flush.md, "Coordinated groups"): 2n deliveries per change
 * instead of FL's n² FLUSH_OKs.
 *   member:      on a Spread view (and again on each later one of a cascade while still flushed) it sends
 *                FLUSH_OK(view id) AGREED to the coordinator's private group: the view's first member.
 *   coordinator: once it holds FLUSH_OK(view id) from every member of that view, it multicasts ALL_FLUSHED(view id)
 *                AGREED to the group (its own FLUSH_OK is counted locally).
 *   everyone:    installs the view on delivering ALL_FLUSHED for the change it is working on; others are stale.
 * Safety: AGREED delivery is one total order over all groups, so a member's old-view messages precede its FLUSH_OK,
 * which precedes ALL_FLUSHED; every member delivers them before installing, and installs at the same point of that order.
 * Cascades: only the coordinator knows who flushed, so a member cannot tell (as FL's collapse does) whether a pending
 * view survives a departure. Instead a Spread view other than a join supersedes every queued one (the decision depends
 * only on the totally ordered stream, so it is the same everywhere); a join is queued behind the pending view, which can
 * still complete (nobody left).
 */
internal sealed partial class FlushGroup
{
    private GroupId? _allFlushedSent;

    /// <summary>True for a group on the coordinator exchange (implies <see cref="AgreedOnly"/>).</summary>
    public bool Coordinated { get; init; }

    /// <summary>A FLUSH_OK sent to our private group (FL's unicast format) for a coordinated group.</summary>
    public void OnCoordinatedFlushOk(string sender, GroupId id, ServiceType service)
    {
        FlushCoordinationCounters counters = _core.Coordination;
        if ((service & (ServiceType.Agreed | ServiceType.Safe)) == 0)
        {
            // Sent with a weaker service it need not follow the sender's old-view messages in the total order.
            RejectControl(sender, "a FLUSH_OK unicast without agreed order");
            return;
        }

        if (!_pending.TryGetValue(id, out SpreadChange? change) || !change.MembershipReceived || !_queue.Contains(change))
        {
            counters.Stale++;
            return;
        }

        if (!IsCoordinator(change) || !change.Current.Contains(sender))
        {
            RejectControl(sender, IsCoordinator(change) ? "a FLUSH_OK from a member outside the view" : "a FLUSH_OK for a view this member does not coordinate");
            return;
        }

        change.FlushOkSenders.Add(sender);
        AnnounceIfAllFlushed(change);
    }

    /// <summary>A multicast FLUSH_OK in a coordinated group: the coordinator's ALL_FLUSHED for view <paramref name="id"/>.</summary>
    public void OnAllFlushed(string sender, GroupId id, ServiceType service)
    {
        FlushCoordinationCounters counters = _core.Coordination;
        if ((service & (ServiceType.Agreed | ServiceType.Safe)) == 0)
        {
            // Only total order makes it safe: a FIFO one could overtake members' old-view messages. Spread FL's own
            // FLUSH_OK is such a multicast: say so, since a group whose members run different exchanges never completes a flush.
            RejectControl(sender, "a FLUSH_OK multicast without agreed order (Spread FL's exchange?); every member of a coordinated group must use the coordinator exchange");
            return;
        }

        if (_current is null || _current.Id != id)
        {
            counters.Stale++;
            return;
        }

        if (!string.Equals(sender, _current.Members[0], StringComparison.Ordinal) || Phase != FlushPhase.Agree)
        {
            // Not the coordinator, or it cannot hold our FLUSH_OK: never trusted.
            RejectControl(sender, "an ALL_FLUSHED from a member that does not coordinate the view");
            return;
        }

        InstallCurrent();
        Phase = FlushPhase.Steady;
        if (_queue.Count > 0)
        {
            StartNextChange();
        }

        if (View.Current.Count < View.Members.Count && !View.InTransitional)
        {
            View.InTransitional = true;
            _core.Deliver(new FlushTransitionalSignal(Name));
        }
    }

    /// <summary>Our FLUSH_OK for the change we work on: to its coordinator, or counted here if that is us.</summary>
    private void SendCoordinatedFlushOk()
    {
        SpreadChange change = _current!;
        if (IsCoordinator(change))
        {
            change.FlushOkSenders.Add(_core.PrivateGroup);
            AnnounceIfAllFlushed(change);
            return;
        }

        byte[] body = FlushWire.ApplicationBody(FlushWire.GroupIdBody(change.Id), FlushWire.FlushOk, vulnerableTo: null, referenceGroup: Name);
        _core.Send(new Outgoing(ServiceType.Agreed | FlushWire.SubgroupCast, [change.Members[0]], FlushWire.FlushOk, body));
    }

    /// <summary>Drops a bad control message of the coordinator exchange: counted, and logged with its sender and why.</summary>
    public void RejectControl(string sender, string reason)
    {
        _core.Coordination.Rejected++;
        _core.Log?.ControlRejected(Name, sender, reason);
    }

    private bool IsCoordinator(SpreadChange change) => string.Equals(change.Members[0], _core.PrivateGroup, StringComparison.Ordinal);

    private void AnnounceIfAllFlushed(SpreadChange change)
    {
        // Only the change being worked on: a queued join's FLUSH_OKs wait until the change before it is installed.
        if (!ReferenceEquals(change, _current) || change.FlushOkSenders.Count < change.Members.Count || _allFlushedSent == change.Id)
        {
            return;
        }

        _allFlushedSent = change.Id;
        _core.Send(new Outgoing(ServiceType.Agreed, [Name], FlushWire.FlushOk, FlushWire.GroupIdBody(change.Id)));
    }

    /// <summary>
    /// The coordinated groups' cascade rule: a join queues behind the pending change (which can still complete); any other
    /// Spread view supersedes every queued change, and is then reported CAUSED_BY_NETWORK. Returns the change to work on now.
    /// </summary>
    private SpreadChange Supersede(MembershipMessage m, SpreadChange incoming)
    {
        if (_queue.Count > 0 && m.Cause != MembershipCause.Join)
        {
            foreach (SpreadChange dropped in _queue)
            {
                _pending.Remove(dropped.Id);
            }

            _queue.Clear();
            incoming.Type = ServiceType.RegularMembership | ServiceType.CausedByNetwork;
        }

        return _queue.Count == 0 ? incoming : _queue[0];
    }
}
