using Conclave.Protocol.Ring;
using Conclave.Protocol.Spread;

namespace Conclave.Protocol.Tracing;

/// <summary>
/// The group-layer invariants of ring-protocol.md §5.7 over the client-visible group events
/// (docs/trace-format.md): G-P1 (daemons that deliver a message in one configuration, outside a
/// state exchange, then hold the same table), G-P2 (at most one TRANSITION_MESS
/// between views, carrying the current id, followed by a network view, and present exactly when
/// owed: a transitional configuration since the view left out a daemon of the view, or the view is
/// a heavyweight network view of a transitional period), G-P3 (clients in one vs-set
/// that came from one view got the same messages), G-P4 (a message reaches exactly the local members
/// of its groups), G-P5 (nothing for a group after the self-leave), G-P6 (no network view when the
/// changes since the view neither removed nor added a daemon of the group) and G-P7's
/// join/leave/disconnect index rule. G-P2's presence rule and G-P6 need the <c>groupconf</c> events
/// and are skipped for a daemon whose log has none. Not checked: the index of network views,
/// SELF_DISCARD and private-group destinations in G-P4.
/// </summary>
public sealed class GroupRules : ITraceRule
{
    /// <inheritdoc/>
    public void Check(TraceIndex index, ICollection<Violation> violations)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(violations);
        var tables = new Dictionary<(MessageId, ConfId), (ulong Digest, ProcId Proc)>();
        var synchrony = new Dictionary<(string Group, GroupId From, GroupId To, string VsSet), (HashSet<ulong> Messages, ProcId Proc, string Client)>();
        foreach (ProcId id in index.Order)
        {
            var clients = new Dictionary<(string Client, string Group), ClientState>();
            List<TraceEvent> events = index.Procs[id].Events;
            var daemon = new DaemonState(events.Exists(e => e.Kind == TraceKind.GroupConf));
            foreach (TraceEvent e in events)
            {
                switch (e.Kind)
                {
                    case TraceKind.GroupConf when e.Conf.Kind == ConfKind.Transitional:
                        daemon.Survivors = e.Names ?? [];
                        daemon.LatestReg = default; // no view closes a change until its regular configuration
                        OnTransitionalConf(daemon, clients);
                        break;
                    case TraceKind.GroupConf:
                        daemon.LatestReg = e.Conf.Ring;
                        daemon.RegNames = e.Names ?? [];
                        daemon.ExchangeMayBeOpen = true;
                        break;
                    case TraceKind.GroupView:
                        OnView(id, e, State(clients, e), daemon, synchrony, violations);
                        break;
                    case TraceKind.GroupTransition:
                        OnTransition(id, e, State(clients, e), daemon, violations);
                        break;
                    case TraceKind.GroupLeave:
                        ClientState left = State(clients, e);
                        if (left.View is null) Add(violations, "G-P5", $"{e.Client} got a self-leave for {e.Group} without being in it", e, id);
                        left.View = null;
                        left.Left = true;
                        left.TransitionSinceView = false;
                        left.TransitionOwed = false;
                        left.TransitionAllowed = false;
                        break;
                    case TraceKind.GroupKill:
                        ClientState killed = State(clients, e);
                        killed.View = null;
                        killed.TransitionSinceView = false;
                        killed.TransitionOwed = false;
                        killed.TransitionAllowed = false;
                        break;
                    case TraceKind.GroupData:
                        OnData(id, e, clients, violations);
                        break;
                    case TraceKind.GroupDigest:
                        daemon.ExchangeMayBeOpen = false; // digests are written only outside an exchange
                        if (!tables.TryAdd((e.Message, e.Conf), (e.PayloadHash, id)) && tables[(e.Message, e.Conf)] is { } first && first.Digest != e.PayloadHash)
                        {
                            Add(violations, "G-P1", $"group tables differ after {e.Message} in {e.Conf}", e, first.Proc, id);
                        }
                        break;
                }
            }
        }
    }

    private sealed class ClientState
    {
        public TraceEvent? View;
        public bool TransitionSinceView;
        /// <summary>G-P2: a TRANSITION_MESS is owed before the next view (a daemon of the view was left out).</summary>
        public bool TransitionOwed;
        /// <summary>
        /// G-P2: a TRANSITION_MESS before the next view is allowed though not owed: a cascaded change
        /// may have dropped daemons that the interrupted exchange merged into the group unseen (N10).
        /// </summary>
        public bool TransitionAllowed;
        public bool Left;
        public HashSet<ulong> Messages = [];
    }

    private static ClientState State(Dictionary<(string, string), ClientState> clients, TraceEvent e)
    {
        if (!clients.TryGetValue((e.Client!, e.Group!), out ClientState? s)) clients[(e.Client!, e.Group!)] = s = new ClientState();
        return s;
    }

    private static void Add(ICollection<Violation> v, string property, string message, TraceEvent e, params ProcId[] procs) =>
        v.Add(new Violation(property, message, e.TimeUs, procs));

    /// <summary>The daemon part of a private name <c>#user#daemon</c>.</summary>
    private static string DaemonOf(string member) => member[(member.LastIndexOf('#') + 1)..];

    /// <summary>
    /// A network view inside a transitional period (a join, leave or disconnect applied while the group
    /// is Changed, J3/J4): its index counts on from the transitional id's 1, while the network view that
    /// ends the period has index 1 (N3).
    /// </summary>
    private static bool Heavyweight(TraceEvent view) => view.Cause == "network" && view.GroupId.Index > 1;

    /// <summary>What a daemon's <c>groupconf</c> events say so far.</summary>
    private sealed class DaemonState(bool confs)
    {
        /// <summary>The log has <c>groupconf</c> events (G-P2's presence rule and G-P6 need them).</summary>
        public bool Confs { get; } = confs;
        /// <summary>The daemons of the latest transitional configuration.</summary>
        public string[] Survivors = [];
        /// <summary>The latest regular configuration, if no transitional one came after it.</summary>
        public RingId LatestReg;
        /// <summary>The daemons of the latest regular configuration.</summary>
        public string[] RegNames = [];
        /// <summary>
        /// No <c>groupdigest</c> since the latest regular configuration: its state exchange may still
        /// run (digests are written only outside one).
        /// </summary>
        public bool ExchangeMayBeOpen;

        /// <summary>
        /// A transitional configuration that interrupts an exchange and leaves out daemons of the
        /// regular configuration it ran in. At the next regular configuration the table merges the
        /// sets whose state was complete (N10) without a view, then drops the daemons outside this
        /// transitional configuration: a group can lose daemons its clients' views never showed.
        /// </summary>
        public bool Cascade => ExchangeMayBeOpen && RegNames.Any(d => Array.IndexOf(Survivors, d) < 0);

        /// <summary>
        /// The network view that ends the latest regular configuration's change (index 1 under its
        /// id, N3). Views of older configurations can still come after newer <c>groupconf</c>
        /// events, replayed by a cascaded change (N10); the presence rules judge only this one.
        /// </summary>
        public bool IsClosingView(TraceEvent view) =>
            view.Cause == "network" && view.GroupId.Index == 1 && view.GroupId.ProcId == (int)LatestReg.Rep && view.GroupId.Time == (int)LatestReg.Seq;

        public bool LeftOut(string[]? members)
        {
            foreach (string member in members ?? [])
            {
                if (Array.IndexOf(Survivors, DaemonOf(member)) < 0) return true;
            }
            return false;
        }
    }

    private static void OnTransitionalConf(DaemonState daemon, Dictionary<(string Client, string Group), ClientState> clients)
    {
        bool cascade = daemon.Cascade;
        foreach (ClientState s in clients.Values)
        {
            if (s.View is not null && daemon.LeftOut(s.View.Names)) s.TransitionOwed = true;
            if (s.View is not null && cascade) s.TransitionAllowed = true;
        }
    }

    private static void OnView(ProcId id, TraceEvent e, ClientState s, DaemonState daemon, Dictionary<(string, GroupId, GroupId, string), (HashSet<ulong>, ProcId, string)> synchrony, ICollection<Violation> v)
    {
        if (daemon.Confs && s.View is { } before)
        {
            // Client requests wait for the state exchange, so none can be delivered between a
            // transitional configuration and the TRANSITION_MESS it owes.
            if (s.TransitionOwed && !s.TransitionSinceView && e.Cause != "network")
            {
                Add(v, "G-P2", $"{e.Client} got a {e.Cause} view of {e.Group} before the TRANSITION_MESS owed since {before.GroupId}", e, id);
            }

            if (s.TransitionOwed && !s.TransitionSinceView && daemon.IsClosingView(e))
            {
                Add(v, "G-P2", $"{e.Client} got a {e.Cause} view of {e.Group} without the TRANSITION_MESS owed since {before.GroupId} (a daemon of it was left out)", e, id);
            }

            // Nothing changed for g: no daemon of the view was left out, no daemon of the new view joined
            // the ring in this change, nobody is new and everyone came together (one vs-set; vs-sets
            // alone miss a side whose entries kept the same MembId, hence the other two conditions).
            if (daemon.IsClosingView(e) && !s.TransitionOwed && !s.TransitionSinceView && !daemon.LeftOut(e.Names)
                && e.VsSets is [{ } only] && only.Length == (e.Names ?? []).Length && (e.Names ?? []).All(n => (before.Names ?? []).Contains(n)))
            {
                Add(v, "G-P6", $"{e.Client} got a network view of {e.Group} though no daemon of {before.GroupId} was left out and none was added", e, id);
            }
        }

        if (s.Left && !(e.Names ?? []).Contains(e.Client))
        {
            Add(v, "G-P5", $"{e.Client} got a view of {e.Group} after leaving it", e, id);
        }

        if (s.TransitionSinceView && e.Cause != "network")
        {
            Add(v, "G-P2", $"{e.Client} got a {e.Cause} view of {e.Group} after a TRANSITION_MESS instead of a network view", e, id);
        }

        if (s.View is { } previous && e.Cause is "join" or "leave" or "disconnect" && !s.TransitionSinceView
            && (previous.GroupId.ProcId != e.GroupId.ProcId || previous.GroupId.Time != e.GroupId.Time || previous.GroupId.Index + 1 != e.GroupId.Index))
        {
            Add(v, "G-P7", $"{e.Client}'s {e.Cause} view of {e.Group} has id {e.GroupId} after {previous.GroupId}", e, id);
        }

        if (s.View is { } from && e.VsSets is { } sets && e.LocalVsSet >= 0 && e.LocalVsSet < sets.Length)
        {
            var key = (e.Group!, from.GroupId, e.GroupId, string.Join(",", sets[e.LocalVsSet]));
            if (!synchrony.TryGetValue(key, out (HashSet<ulong> Messages, ProcId Proc, string Client) other))
            {
                synchrony[key] = (s.Messages, id, e.Client!);
            }
            else if (!other.Messages.SetEquals(s.Messages))
            {
                Add(v, "G-P3", $"{e.Client} and {other.Client} ({other.Proc}) moved together from {from.GroupId} to {e.GroupId} of {e.Group} with different messages ({s.Messages.Count} vs {other.Messages.Count})", e, id, other.Proc);
            }
        }

        s.View = (e.Names ?? []).Contains(e.Client) ? e : null;
        s.Left = false;
        s.TransitionSinceView = false;
        s.TransitionAllowed = false;
        // A heavyweight view (J3/J4 in a transitional period) is followed by a TRANSITION_MESS.
        s.TransitionOwed = Heavyweight(e);
        s.Messages = [];
    }

    private static void OnTransition(ProcId id, TraceEvent e, ClientState s, DaemonState daemon, ICollection<Violation> v)
    {
        if (s.View is null)
        {
            Add(v, s.Left ? "G-P5" : "G-P2", $"{e.Client} got a TRANSITION_MESS for {e.Group} without being in it", e, id);
            return;
        }

        if (s.TransitionSinceView) Add(v, "G-P2", $"{e.Client} got two TRANSITION_MESS for {e.Group} between views", e, id);
        // Owed since the view, or its daemons are left out of the latest transitional configuration
        // (a view replayed after that configuration's event, N10).
        if (daemon.Confs && !s.TransitionOwed && !s.TransitionAllowed && !daemon.LeftOut(s.View.Names)) Add(v, "G-P2", $"{e.Client} got a TRANSITION_MESS for {e.Group} though no daemon of its view was left out", e, id);
        if (s.View.GroupId != e.GroupId) Add(v, "G-P2", $"{e.Client}'s TRANSITION_MESS for {e.Group} carries {e.GroupId}, not its view's {s.View.GroupId}", e, id);
        s.TransitionSinceView = true;
    }

    private static void OnData(ProcId id, TraceEvent e, Dictionary<(string Client, string Group), ClientState> clients, ICollection<Violation> v)
    {
        string[] groups = [.. (e.Groups ?? []).Where(g => !g.StartsWith('#'))];
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        foreach (((string client, string group), ClientState s) in clients)
        {
            if (s.View is not null && groups.Contains(group)) expected.Add(client);
        }

        var actual = new SortedSet<string>(e.Names ?? [], StringComparer.Ordinal);
        if (!expected.SetEquals(actual))
        {
            Add(v, "G-P4", $"message {e.PayloadHash:x16} to [{string.Join(",", groups)}] went to [{string.Join(",", actual)}], members in view are [{string.Join(",", expected)}]", e, id);
        }

        foreach (string client in actual)
        {
            foreach (string group in groups)
            {
                if (clients.TryGetValue((client, group), out ClientState? s) && s.View is not null) s.Messages.Add(e.PayloadHash);
            }
        }
    }
}
