using Conclave.Protocol.Spread;

namespace Conclave.Client.Flush.Internal;

internal sealed partial class FlushGroup
{
    /// <summary>A member's FLUSH_OK for the Spread view <paramref name="id"/> (FL's handle_recv_flush_ok).</summary>
    public void OnFlushOk(string sender, GroupId id)
    {
        SpreadChange change = PendingChange(id);
        change.FlushOkSenders.Add(sender);
        if (Phase != FlushPhase.Agree || !ReferenceEquals(change, _current) || change.FlushOkSenders.Count < change.Members.Count)
        {
            return;
        }

        // Every member of the Spread view flushed: by FIFO order we hold all they sent in the old view.
        InstallCurrent();

        // Verify only tags weak-service sends until every member confirmed the view: an agreed-only group has none.
        Phase = AgreedOnly ? FlushPhase.Steady : FlushPhase.Verify;
        if (_queue.Count > 0)
        {
            StartNextChange();
        }
        else if (!AgreedOnly)
        {
            _core.Send(new Outgoing(ServiceType.Fifo, [Name], FlushWire.FlushRecv, FlushWire.GroupIdBody(View.Id)));
        }

        // Members of the new view that left after flushing: the view is transitional from the start.
        if (View.Current.Count < View.Members.Count && !View.InTransitional)
        {
            View.InTransitional = true;
            _core.Deliver(new FlushTransitionalSignal(Name));
        }

        foreach (Postponed held in _postponed)
        {
            _core.Deliver(held.Message);
        }

        _postponed.Clear();
    }

    /// <summary>A member's FLUSH_RECV: it installed the view <paramref name="id"/>.</summary>
    public void OnFlushRecv(GroupId id)
    {
        if (Phase == FlushPhase.Verify && id == View.Id)
        {
            if (++_flushRecvs == View.Members.Count)
            {
                Phase = FlushPhase.Steady;
            }
        }
        else if (Phase == FlushPhase.Agree && id == _current!.Id)
        {
            _flushRecvs++;
        }
    }

    /// <summary>An application message; <paramref name="vulnerableTo"/> is the view a vulnerable message was sent in.</summary>
    public void OnData(FlushDataMessage message, GroupId? vulnerableTo)
    {
        // Sent in a view we have not installed yet (the sender is ahead of us): deliver it right after installing.
        if (Phase == FlushPhase.Agree && vulnerableTo is GroupId to && to == _current!.Id)
        {
            if (_current.Current.Contains(message.Sender))
            {
                _postponed.Add(new Postponed(message));
            }
            else
            {
                _core.Drops.CountHeldForAbandonedView(1);
            }

            return;
        }

        // Closed group: only members of the installed view are heard.
        if (View.Current.Contains(message.Sender))
        {
            _core.Deliver(message);
        }
        else
        {
            _core.Drops.CountSenderOutsideView($"{Name}: {message.Sender} not in view {View.Id} [{string.Join(",", View.Current)}] ({Phase})");
        }
    }

    /// <summary>True if a message of <paramref name="service"/> sent now needs FL's vulnerable tail (a weak service before every member installed the view).</summary>
    public bool IsVulnerable(ServiceType service) => Phase is FlushPhase.Authorize or FlushPhase.Verify && (service & FlushWire.WeakServices) != 0;

    /// <summary>Decides how an application send goes out now, or that it must wait for the next view.</summary>
    /// <returns>The message to send, or null while a flush is answered and the next view not installed.</returns>
    public Outgoing? PrepareSend(ServiceType service, short messageType, ReadOnlySpan<byte> body, IReadOnlyList<string>? receivers) =>
        PrepareSend(service, messageType, (ReadOnlyMemory<byte>)body.ToArray(), receivers);

    /// <summary>As the span overload; a body that is a whole array goes out uncopied when it needs no FL tail.</summary>
    public Outgoing? PrepareSend(ServiceType service, short messageType, ReadOnlyMemory<byte> body, IReadOnlyList<string>? receivers)
    {
        if (!Joined || Leaving)
        {
            throw new SpreadException(SpreadError.IllegalGroup, $"The session is not a member of '{Name}'.");
        }

        if (AgreedOnly && (service & FlushWire.WeakServices) != 0)
        {
            // Unconfirmed views are never tracked here, so a weak-service message could reach a member still in the old view.
            throw new SpreadException(SpreadError.IllegalService, $"'{Name}' is an agreed-only group: {service} is not allowed.");
        }

        if (Phase == FlushPhase.Agree)
        {
            return null;
        }

        if (receivers is not null)
        {
            foreach (string receiver in receivers)
            {
                if (!View.Members.Contains(receiver, StringComparer.Ordinal))
                {
                    throw new SpreadException(SpreadError.IllegalGroup, $"'{receiver}' is not a member of the current view of '{Name}'.");
                }
            }
        }

        bool vulnerable = IsVulnerable(service);
        byte[] wireBody = FlushWire.ApplicationBody(body, messageType, vulnerable ? View.Id : null, receivers is null ? null : Name);
        return new Outgoing(
            receivers is null ? service : service | FlushWire.SubgroupCast,
            receivers ?? [Name],
            vulnerable ? FlushWire.Vulnerable : messageType,
            wireBody);
    }
}
