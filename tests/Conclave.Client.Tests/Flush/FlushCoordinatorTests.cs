using Conclave.Client.Flush;
using Conclave.Client.Flush.Internal;
using Conclave.Protocol.Spread;
using Microsoft.Extensions.Logging;

namespace Conclave.Client.Tests.Flush;

/// <summary>
/// The coordinator exchange of coordinated groups, step by step: FLUSH_OKs go to the view's first member only, one
/// ALL_FLUSHED installs the view everywhere, cascades hand over to the next view's coordinator, a join queues, and
/// bad or stale control messages are dropped and counted.
/// </summary>
public sealed class FlushCoordinatorTests
{
    private const string A = "#a#d";
    private const string B = "#b#d";
    private const string C = "#c#d";
    private const string D = "#d#d";

    [Fact]
    public void Members_send_their_flush_ok_to_the_first_member_which_announces_all_flushed_once()
    {
        var ring = new Ring(A, B, C, D);
        ring.Membership(ServiceType.CausedByJoin, [A, B, C], changed: C);
        Outgoing okB = ring.Core(B).Sends.Single(), okC = ring.Core(C).Sends.Single();
        Assert.Empty(ring.Core(A).Sends);
        foreach (Outgoing ok in new[] { okB, okC })
        {
            Assert.Equal(FlushWire.FlushOk, ok.MessageType);
            Assert.Equal([A], ok.Groups);
            Assert.Equal(ServiceType.Agreed | FlushWire.SubgroupCast, ok.Service);
        }

        int frames = ring.Run();
        Assert.Equal(2 + 3, frames);
        Assert.All(ring.Names, n => Assert.Equal(FlushPhase.Steady, ring.Group(n).Phase));
        Assert.All(ring.Names, n => Assert.Equal([A, B, C], ring.LastView(n).Members));
        Assert.All(ring.Names, n => Assert.Equal(0, ring.Core(n).Coordination.Rejected + ring.Core(n).Coordination.Stale));
    }

    [Fact]
    public void The_coordinator_disconnecting_mid_exchange_hands_over_to_the_next_views_first_member()
    {
        var ring = new Ring(A, B, C, D);
        ring.Membership(ServiceType.CausedByJoin, [A, B, C], changed: C);
        ring.Run();
        GroupId first = ring.LastView(B).GroupId;

        // Everyone flushes for D's join, but A disconnects before its ALL_FLUSHED reaches the ring.
        ring.Membership(ServiceType.CausedByJoin, [A, B, C, D], changed: D);
        ring.Run(skip: A);
        ring.Core(A).Sends.Clear();
        Assert.Equal(first, ring.LastView(B).GroupId);
        ring.Membership(ServiceType.CausedByDisconnect, [B, C, D], changed: A);

        // Everyone re-sends its FLUSH_OK to B, without a new request; B announces.
        Assert.All(new[] { C, D }, n => Assert.Equal([B], ring.Core(n).Sends.Single().Groups));
        ring.Run();
        foreach (string n in new[] { B, C })
        {
            FlushView v = ring.LastView(n);
            Assert.Equal([B, C, D], v.Members);
            Assert.Equal(MembershipCause.Network, v.Cause);
            Assert.Equal([B, C], v.VsSet);
            Assert.Single(ring.Events(n).OfType<FlushRequest>());
        }

        Assert.Equal([B, C, D], ring.LastView(D).Members);
    }

    [Fact]
    public void A_join_during_a_flush_queues_and_both_views_are_installed_in_order()
    {
        var ring = new Ring(A, B, C, D);
        ring.Membership(ServiceType.CausedByJoin, [A, B], changed: B);
        ring.Run();
        ring.Membership(ServiceType.CausedByJoin, [A, B, C], changed: C);
        ring.Membership(ServiceType.CausedByJoin, [A, B, C, D], changed: D);
        ring.Run();
        foreach (string n in new[] { A, B })
        {
            FlushView[] views = [.. ring.Events(n).OfType<FlushView>()];
            Assert.Equal(3, views.Length);
            Assert.Equal([C], views[1].VsSet);
            Assert.Equal([D], views[2].VsSet);
            Assert.All(views, v => Assert.Equal(MembershipCause.Join, v.Cause));
        }

        Assert.Equal([A, B, C, D], ring.LastView(C).Members);
        Assert.Equal([A, B, C, D], ring.LastView(D).Members);
    }

    [Fact]
    public void Control_messages_that_are_bad_or_stale_are_dropped_counted_and_never_install_a_view()
    {
        var ring = new Ring(A, B, C, D);
        ring.Membership(ServiceType.CausedByJoin, [A, B, C], changed: C);
        FlushCore b = ring.Core(B);
        GroupId id = ring.LastSpreadView;
        byte[] gid = FlushWire.GroupIdBody(id);

        Deliver(b, C, ServiceType.Agreed, [EvsSimulator.Group], gid);                      // ALL_FLUSHED from a non-coordinator
        Deliver(b, A, ServiceType.Fifo, [EvsSimulator.Group], gid);                        // ... not totally ordered
        Deliver(b, A, ServiceType.Agreed, [EvsSimulator.Group], [1, 2, 3]);                // ... malformed
        Deliver(b, C, ServiceType.Agreed | FlushWire.SubgroupCast, [B], FlushWire.ApplicationBody(gid, FlushWire.FlushOk, null, EvsSimulator.Group)); // FLUSH_OK to a non-coordinator
        Assert.Equal(4, b.Coordination.Rejected);

        Deliver(b, A, ServiceType.Agreed, [EvsSimulator.Group], FlushWire.GroupIdBody(new GroupId(9, 9, 9))); // for an unknown view
        Assert.Equal(1, b.Coordination.Stale);
        Assert.DoesNotContain(b.Deliveries, e => e is FlushView);

        FlushCore a = ring.Core(A);
        Deliver(a, D, ServiceType.Agreed | FlushWire.SubgroupCast, [A], FlushWire.ApplicationBody(gid, FlushWire.FlushOk, null, EvsSimulator.Group)); // from a non-member
        Deliver(a, C, ServiceType.Fifo, [EvsSimulator.Group], gid);                        // plain FL's multicast FLUSH_OK
        Assert.Equal(2, a.Coordination.Rejected);

        // The honest exchange still completes: nothing bad was counted towards it.
        ring.Run();
        Assert.All(ring.Names, n => Assert.Equal([A, B, C], ring.LastView(n).Members));
    }

    [Fact]
    public void An_all_flushed_overtaken_by_a_leave_is_stale_everywhere()
    {
        var ring = new Ring(A, B, C, D);
        ring.Membership(ServiceType.CausedByJoin, [A, B, C], changed: C);
        ring.Run();

        // A's announcement for the join of D is ordered after C's leave: nobody installs that view.
        ring.Membership(ServiceType.CausedByJoin, [A, B, C, D], changed: D);
        ring.Run(holdAnnouncements: true);
        ring.Membership(ServiceType.CausedByLeave, [A, B, D], changed: C);
        ring.ReleaseHeld();
        ring.Run();
        foreach (string n in new[] { A, B, D })
        {
            Assert.Equal([A, B, D], ring.LastView(n).Members);
            Assert.DoesNotContain(ring.Events(n).OfType<FlushView>(), v => v.Members.Count == 4);
            Assert.Equal(1, ring.Core(n).Coordination.Stale);
            Assert.Equal(0, ring.Core(n).Coordination.Rejected);
        }
    }

    [Fact]
    public void A_member_on_Spread_FLs_exchange_in_a_coordinated_group_is_named_in_a_warning_not_left_to_hang_silently()
    {
        var ring = new Ring(A, B, C);
        ring.Membership(ServiceType.CausedByJoin, [A, B, C], changed: C);
        FlushCore b = ring.Core(B);
        var log = new RecordingLog();
        b.Log = new FlushLog(log);

        Deliver(b, C, ServiceType.Fifo, [EvsSimulator.Group], FlushWire.GroupIdBody(ring.LastSpreadView)); // plain FL's multicast FLUSH_OK

        (LogLevel level, EventId id, string message) = Assert.Single(log.Entries);
        Assert.Equal(LogLevel.Warning, level);
        Assert.Equal(1008, id.Id);
        Assert.Contains(C, message, StringComparison.Ordinal);
        Assert.Contains("Spread FL's exchange", message, StringComparison.Ordinal);
        Assert.Equal(1, b.Coordination.Rejected);
    }

    private static void Deliver(FlushCore core, string from, ServiceType service, string[] groups, byte[] body) =>
        core.Handle(new DataMessage(service, from, groups, FlushWire.FlushOk, false, body));

    /// <summary>One totally ordered log for a few coordinated cores; every process answers flush requests at once.</summary>
    private sealed class Ring
    {
        private readonly Dictionary<string, FlushCore> _cores = [];
        private readonly Dictionary<string, List<FlushEvent>> _events = [];
        private readonly List<(string From, Outgoing Message)> _held = [];
        private string[] _members = [];
        private int _gid;

        public Ring(params string[] names)
        {
            foreach (string n in names)
            {
                var core = new FlushCore(n, autoFlushOk: true);
                core.MarkAgreedOnly(EvsSimulator.Group, coordinated: true);
                _cores.Add(n, core);
                _events.Add(n, []);
            }
        }

        public IEnumerable<string> Names => _members;

        public FlushCore Core(string name) => _cores[name];

        public FlushGroup Group(string name) => _cores[name].Group(EvsSimulator.Group)!;

        public IEnumerable<FlushEvent> Events(string name) => _events[name];

        public FlushView LastView(string name) => _events[name].OfType<FlushView>().Last();

        /// <summary>Gets the id of the last Spread view announced.</summary>
        public GroupId LastSpreadView => new(1, _gid, 1);

        public void Membership(ServiceType cause, string[] members, string changed)
        {
            var id = new GroupId(1, ++_gid, 1);
            string[] receivers = cause == ServiceType.CausedByLeave ? [.. members, changed] : members;
            _members = members;
            foreach (string n in receivers)
            {
                SpreadMessage m = n == changed && cause == ServiceType.CausedByLeave
                    ? new SelfLeaveMessage(ServiceType.CausedByLeave, EvsSimulator.Group)
                    : new MembershipMessage(ServiceType.RegularMembership | cause, EvsSimulator.Group, members, id, [[changed]], 0, Array.IndexOf(members, n));
                _cores[n].Handle(m);
                Collect(n);
            }
        }

        /// <summary>Delivers every queued send in order, and what they cause, until nothing moves; returns the frames delivered.</summary>
        public int Run(string? skip = null, bool holdAnnouncements = false)
        {
            int frames = 0;
            while (true)
            {
                (string From, Outgoing Message)? next = null;
                foreach (string n in _cores.Keys.Where(n => n != skip))
                {
                    if (_cores[n].Sends.TryDequeue(out Outgoing? o))
                    {
                        next = (n, o);
                        break;
                    }
                }

                if (next is not (string from, Outgoing message))
                {
                    return frames;
                }

                if (holdAnnouncements && message.Groups[0] == EvsSimulator.Group)
                {
                    _held.Add((from, message));
                    continue;
                }

                frames += Send(from, message);
            }
        }

        private int Send(string from, Outgoing message)
        {
            string[] to = message.Groups[0] == EvsSimulator.Group ? _members : [.. message.Groups];
            foreach (string n in to)
            {
                _cores[n].Handle(new DataMessage(message.Service, from, message.Groups, message.MessageType, false, message.Body));
                Collect(n);
            }

            return to.Length;
        }

        private void Collect(string name)
        {
            while (_cores[name].Deliveries.TryDequeue(out FlushEvent? e))
            {
                _events[name].Add(e);
            }

        }

        /// <summary>Delivers the announcements <see cref="Run"/> held back (ordered after whatever came since).</summary>
        public void ReleaseHeld()
        {
            foreach ((string from, Outgoing message) in _held)
            {
                Send(from, message);
            }

            _held.Clear();
        }
    }

    private sealed class RecordingLog : ILogger
    {
        public List<(LogLevel Level, EventId Id, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, eventId, formatter(state, exception)));
    }
}
