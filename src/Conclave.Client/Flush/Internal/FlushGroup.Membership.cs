using Conclave.Protocol.Spread;

namespace Conclave.Client.Flush.Internal;

internal sealed partial class FlushGroup
{
    /// <summary>A Spread regular membership of the group (FL's handle_recv_reg_memb_mess).</summary>
    public void OnMembership(MembershipMessage m)
    {
        _core.Log?.SpreadViewReceived(Name, m.Members.Count);
        SpreadChange change = PendingChange(m.GroupId);
        HashSet<string> leavers = Leavers(m);
        change.Fill(m);

        bool shrunk = false;
        foreach (string leaver in leavers)
        {
            shrunk |= View.Current.Remove(leaver);
        }

        AgeStaleChanges();
        SpreadChange newCurrent = Coordinated ? Supersede(m, change) : Collapse(leavers, change);
        _queue.Add(change);
        _spView = change;

        if (!ReferenceEquals(_current, newCurrent))
        {
            // Held vulnerable messages were meant for a view that will not be installed: their senders left.
            _core.Drops.CountHeldForAbandonedView(_postponed.Count);
            _postponed.Clear();
            StartNextChange();
        }

        if (shrunk && !View.InTransitional)
        {
            View.InTransitional = true;
            _core.Deliver(new FlushTransitionalSignal(Name));
        }
    }

    /// <summary>A Spread transitional membership: signalled once per Flush view.</summary>
    public void OnTransitional()
    {
        _spView.InTransitional = true;
        if (!View.InTransitional)
        {
            View.InTransitional = true;
            _core.Deliver(new FlushTransitionalSignal(Name));
        }
    }

    private SpreadChange PendingChange(GroupId id)
    {
        if (!_pending.TryGetValue(id, out SpreadChange? change))
        {
            change = new SpreadChange(id);
            _pending.Add(id, change);
        }

        return change;
    }

    /// <summary>Who left since the last Spread view: the changed member of a leave or disconnect, or everyone not in our vs-set.</summary>
    private HashSet<string> Leavers(MembershipMessage m)
    {
        var leavers = new HashSet<string>(StringComparer.Ordinal);
        if (m.Cause == MembershipCause.Network)
        {
            leavers.UnionWith(_spView.Members);
            leavers.ExceptWith(m.LocalVsSet);
        }
        else if (m.Cause != MembershipCause.Join && m.ChangedMember is string changed)
        {
            leavers.Add(changed);
        }

        return leavers;
    }

    private void AgeStaleChanges()
    {
        foreach (SpreadChange change in _pending.Values)
        {
            if (!change.MembershipReceived && ++change.Age > StaleChangeAge)
            {
                _pending.Remove(change.Id);
                break;
            }
        }
    }

    /// <summary>
    /// Drops queued Spread views that a leaver belonged to but had not flushed (they can never complete),
    /// marking the next surviving one CAUSED_BY_NETWORK, and returns the view to work on now (FL's collapse_memberships).
    /// </summary>
    private SpreadChange Collapse(HashSet<string> leavers, SpreadChange incoming)
    {
        if (_queue.Count > 0 && leavers.Count > 0)
        {
            bool invalidating = false;
            for (int i = 0; i < _queue.Count;)
            {
                SpreadChange change = _queue[i];
                bool dropped = false;
                foreach (string leaver in leavers)
                {
                    if (!change.Current.Contains(leaver))
                    {
                        continue;
                    }

                    if (!change.FlushOkSenders.Contains(leaver))
                    {
                        invalidating = true;
                        _pending.Remove(change.Id);
                        _queue.RemoveAt(i);
                        dropped = true;
                        break;
                    }

                    change.Current.Remove(leaver);
                }

                if (!dropped)
                {
                    if (invalidating)
                    {
                        invalidating = false;
                        change.Type = ServiceType.RegularMembership | ServiceType.CausedByNetwork;
                    }

                    i++;
                }
            }

            if (invalidating)
            {
                incoming.Type = ServiceType.RegularMembership | ServiceType.CausedByNetwork;
            }
        }

        return _queue.Count == 0 ? incoming : _queue[0];
    }
}
