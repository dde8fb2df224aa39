using Conclave.Protocol.Spread;

namespace Conclave.Client.Flush.Internal;

/// <summary>
/// The flush protocol of one group (Spread FL's <c>fl_group</c>): turns the group's Spread views, FLUSH_OKs
/// and FLUSH_RECVs into Flush views with view synchrony. It owns no I/O: it appends to its core's queues.
/// </summary>
internal sealed partial class FlushGroup
{
    /// <summary>FL forgets a group id it only saw in FLUSH_OKs after this many Spread memberships.</summary>
    private const int StaleChangeAge = 200;

    private readonly FlushCore _core;
    private readonly Dictionary<GroupId, SpreadChange> _pending = [];
    private readonly List<SpreadChange> _queue = [];
    private readonly List<Postponed> _postponed = [];
    private SpreadChange _spView = SpreadChange.Empty();
    private SpreadChange? _current;
    private int _flushRecvs;

    public FlushGroup(FlushCore core, string name)
    {
        _core = core;
        Name = name;
    }

    public string Name { get; }

    // A joiner has answered its first flush already: its FLUSH_OK goes out as soon as the first view is known.
    public FlushPhase Phase { get; private set; } = FlushPhase.Agree;

    public bool Joined { get; private set; }

    public bool Leaving { get; set; }

    /// <summary>True for a group whose members send only AGREED or SAFE (see <see cref="FlushCore.MarkAgreedOnly"/>): no FLUSH_RECV round.</summary>
    public bool AgreedOnly { get; init; }

    /// <summary>Gets the installed Flush view (empty before the first).</summary>
    public SpreadChange View { get; private set; } = SpreadChange.Empty();

    /// <summary>Counts installed views; senders held in <see cref="FlushPhase.Agree"/> wait for it to move.</summary>
    public int ViewCount { get; private set; }

    /// <summary>The application's answer to a flush request.</summary>
    public void FlushOk()
    {
        if (Leaving)
        {
            // FL refuses; the leave itself ends this member's part in the flush, so there is nothing to answer.
            return;
        }

        if (Phase != FlushPhase.Authorize)
        {
            throw new InvalidOperationException($"No flush request of '{Name}' is waiting for an answer.");
        }

        Phase = FlushPhase.Agree;
        if (Coordinated)
        {
            SendCoordinatedFlushOk();
            return;
        }

        _core.Send(new Outgoing(ServiceType.Fifo, [Name], FlushWire.FlushOk, FlushWire.GroupIdBody(_current!.Id)));
    }

    /// <summary>Starts on the oldest queued Spread view (FL's handle_next_memb_change).</summary>
    private void StartNextChange()
    {
        _current = _queue[0];
        _flushRecvs = 0;
        switch (Phase)
        {
            case FlushPhase.Steady or FlushPhase.Verify:
                Phase = FlushPhase.Authorize;
                _core.Deliver(new FlushRequest(Name));
                if (_core.AutoFlushOk && !Leaving)
                {
                    FlushOk();
                }

                break;
            case FlushPhase.Agree:
                // Already answered for an older view: answer again for the newest one.
                Phase = FlushPhase.Authorize;
                if (!Leaving)
                {
                    FlushOk();
                }

                break;
        }
    }

    private void InstallCurrent()
    {
        SpreadChange next = _current!;
        SpreadChange last = View;
        IReadOnlyList<string> vsSet = (next.Type & ServiceType.CausedByNetwork) == 0
            ? next.DeltaMember is string delta ? [delta] : []
            : [.. last.Members.Where(last.Current.Contains)];
        MembershipCause cause = (next.Type & ServiceType.CausedByNetwork) != 0 ? MembershipCause.Network
            : (next.Type & ServiceType.CausedByDisconnect) != 0 ? MembershipCause.Disconnect
            : (next.Type & ServiceType.CausedByLeave) != 0 ? MembershipCause.Leave
            : MembershipCause.Join;
        _core.Log?.FlushViewInstalled(Name, next.Members.Count);
        _core.Deliver(new FlushView(Name, next.Members, next.Id, cause, vsSet, next.LocalIndex));

        View = next;
        ViewCount++;
        Joined = true;
        _queue.RemoveAt(0);
        _pending.Remove(next.Id);
        _current = null;
    }

    /// <summary>Describes the protocol state, for failure messages.</summary>
    public override string ToString() =>
        $"{Name} {Phase} view {View.Id} [{string.Join(",", View.Members)}] current {_current?.Id} queue: " +
        string.Join("; ", _queue.Select(c => $"{c.Id} [{string.Join(",", c.Members)}] cur [{string.Join(",", c.Current)}] ok [{string.Join(",", c.FlushOkSenders)}]"));

    private readonly record struct Postponed(FlushDataMessage Message);
}
