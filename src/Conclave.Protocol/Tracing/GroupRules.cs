using Conclave.Protocol.Ring;
using Conclave.Protocol.Spread;

namespace Conclave.Protocol.Tracing;

/// <summary>
/// The group-layer invariants of ring-protocol.md §5.7 over the client-visible group events
/// (docs/trace-format.md): G-P1 (daemons that deliver a message in one configuration, outside a
/// state exchange, then hold the same table), G-P2 (at most one TRANSITION_MESS
/// between views, carrying the current id, followed by a network view), G-P3 (clients in one vs-set
/// that came from one view got the same messages), G-P4 (a message reaches exactly the local members
/// of its groups), G-P5 (nothing for a group after the self-leave) and G-P7's join/leave/disconnect
/// index rule. Not checked: G-P6, G-P2's "present exactly when a daemon of the group left", the
/// index of network views, SELF_DISCARD and private-group destinations in G-P4.
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
            foreach (TraceEvent e in index.Procs[id].Events)
            {
                switch (e.Kind)
                {
                    case TraceKind.GroupView:
                        OnView(id, e, State(clients, e), synchrony, violations);
                        break;
                    case TraceKind.GroupTransition:
                        OnTransition(id, e, State(clients, e), violations);
                        break;
                    case TraceKind.GroupLeave:
                        ClientState left = State(clients, e);
                        if (left.View is null) Add(violations, "G-P5", $"{e.Client} got a self-leave for {e.Group} without being in it", e, id);
                        left.View = null;
                        left.Left = true;
                        left.TransitionSinceView = false;
                        break;
                    case TraceKind.GroupKill:
                        ClientState killed = State(clients, e);
                        killed.View = null;
                        killed.TransitionSinceView = false;
                        break;
                    case TraceKind.GroupData:
                        OnData(id, e, clients, violations);
                        break;
                    case TraceKind.GroupDigest:
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

    private static void OnView(ProcId id, TraceEvent e, ClientState s, Dictionary<(string, GroupId, GroupId, string), (HashSet<ulong>, ProcId, string)> synchrony, ICollection<Violation> v)
    {
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
        s.Messages = [];
    }

    private static void OnTransition(ProcId id, TraceEvent e, ClientState s, ICollection<Violation> v)
    {
        if (s.View is null)
        {
            Add(v, s.Left ? "G-P5" : "G-P2", $"{e.Client} got a TRANSITION_MESS for {e.Group} without being in it", e, id);
            return;
        }

        if (s.TransitionSinceView) Add(v, "G-P2", $"{e.Client} got two TRANSITION_MESS for {e.Group} between views", e, id);
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
