using Conclave.Protocol.Groups;
using Conclave.Protocol.Ring;
using Conclave.Protocol.Spread;
using Conclave.Protocol.Tracing;

namespace Conclave.Protocol.Simulation;

/// <summary>
/// The group layer on the ring in the simulator (ring-protocol.md §5): one <see cref="GroupTable"/>
/// per daemon incarnation, fed by the ring's delivery stream, with clients that join, leave and
/// multicast. Group-state messages the tables emit are submitted back to the ring (Agreed).
/// At the end of a quiescent run every live daemon must hold the same table (checked as G-P1:
/// same groups, same members in the same order, same group ids).
/// </summary>
internal sealed class GroupSimulation
{
    private readonly Simulator _sim;
    private readonly string[] _names;
    private readonly GroupTable?[] _tables;
    private readonly ulong[] _incarnation;
    private readonly SimDownQueues?[] _queues;
    private readonly Output[] _outputs;

    public GroupSimulation(Simulator sim)
    {
        _sim = sim;
        _names = [.. Enumerable.Range(0, sim.Count + 1).Select(i => $"d{i}")];
        _tables = new GroupTable?[sim.Count + 1];
        _incarnation = new ulong[sim.Count + 1];
        _queues = new SimDownQueues?[sim.Count + 1];
        _outputs = new Output[sim.Count + 1];
        for (uint n = 1; n <= sim.Count; n++) _outputs[n] = new Output(this, n);
        sim.OnDelivery = OnDelivery;
    }

    public long GroupMessagesDelivered { get; private set; }

    private readonly List<Violation> _breaches = [];

    /// <summary>Violations seen while the run went on (a client request delivered during a state exchange).</summary>
    public IReadOnlyList<Violation> Breaches => _breaches;

    private long _dataCounter;

    /// <summary>Adds a group event to the trace, stamped with the daemon's incarnation and the time.</summary>
    private void Record(uint node, TraceEvent e)
    {
        if (_sim.Config.RecordTrace)
        {
            _sim.Trace.Add(e with { TimeUs = _sim.Now, Node = node, Incarnation = _incarnation[node] });
        }
    }

    /// <summary>Clients on random daemons join, leave or multicast every <paramref name="periodUs"/> until <paramref name="untilUs"/>.</summary>
    public void StartChurn(long fromUs, long untilUs, long periodUs = 20_000)
    {
        void Step()
        {
            if (_sim.Now >= untilUs) return;
            SimRandom rng = _sim.Scenario;
            uint node = (uint)rng.Range(1, _sim.Count + 1);
            if (_sim.IsUp(node))
            {
                string client = $"#c{rng.Next(3)}#{_names[node]}";
                string group = $"g{rng.Next(3)}";
                double r = rng.NextDouble();
                GroupMessage m = r < 0.45 ? GroupMessage.Join(client, group)
                    : r < 0.75 ? GroupMessage.Leave(client, group)
                    : r < 0.8 ? GroupMessage.Kill(client)
                    : GroupMessage.Data(client, [group], ServiceType.Agreed, UniqueBody(node));
                Queues(node).AddClient(GroupMessageCodec.Encode(m), r < 0.8 ? RingService.Agreed : RingService.Safe);
                _sim.Sendable(node);
            }
            _sim.At(_sim.Now + periodUs, Step);
        }
        _sim.At(fromUs, Step);
    }

    /// <summary>FNV-1a of every group's name, id, Changed flag (it decides light or heavy views) and members, in name order.</summary>
    private static ulong Digest(GroupTable table)
    {
        var text = new System.Text.StringBuilder();
        foreach (string g in table.GroupNames)
        {
            text.Append(g).Append('|').Append(table.GroupIdOf(g)).Append('|').Append(table.IsChanged(g) ? 'C' : '-').Append('|').AppendJoin(',', table.MembersOf(g)).Append(';');
        }

        return TraceEvent.Hash(System.Text.Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>A distinct body per data message, so traces can tell messages apart by hash.</summary>
    private byte[] UniqueBody(uint node)
    {
        var body = new byte[12];
        BitConverter.TryWriteBytes(body, node);
        BitConverter.TryWriteBytes(body.AsSpan(4), ++_dataCounter);
        return body;
    }

    private static MembershipId Mid(RingId ring) => new((int)ring.Rep, (int)ring.Seq);

    /// <summary>
    /// A transitional configuration's id, unique per (new ring, old ring) as ring-protocol.md §5.2
    /// requires and as the daemon's <c>RingNodes.IdOf</c> makes it. The old ring's id alone is the same
    /// on both sides of a partition, so vs-sets would put daemons that never met in one set.
    /// Bit 30 keeps it apart from every regular id (rep, seq).
    /// </summary>
    private static MembershipId TransMid(ConfId conf)
    {
        ulong mix = unchecked((conf.Old.Seq * 0x9E3779B97F4A7C15UL) ^ (conf.Old.Rep * 0xC2B2AE3D27D4EB4FUL));
        uint time = 0x4000_0000u | (uint)((conf.Ring.Seq & 0x3F_FFFF) << 8) | (1 + (uint)((mix >> 32) % 255));
        return new MembershipId((int)conf.Ring.Rep, (int)time);
    }

    private GroupTable Table(uint node)
    {
        ulong inc = _sim.Machine(node)!.Incarnation;
        if (_tables[node] is null || _incarnation[node] != inc)
        {
            // A restarted daemon is a new daemon: its old clients are gone (§5.4).
            _tables[node] = new GroupTable(_names[node], _names[1..], Mid(_sim.Machine(node)!.MyRingId));
            _incarnation[node] = inc;
        }
        return _tables[node]!;
    }

    /// <summary>
    /// True for a sender the churn's clients use. The ring-level load's random payloads bypass the
    /// down-queues and now and then decode as a group message with a garbage sender (campaign seed
    /// 8784: a "Kill"); the table drops those as from an unknown daemon, so they are no J6 breach.
    /// </summary>
    private bool IsChurnClient(string sender) =>
        PrivateGroupName.TryParse(sender, out _, out string daemon) && Array.IndexOf(_names, daemon, 1) > 0;

    /// <summary>The down-queues of the node's current incarnation, attached to its ring as the send source.</summary>
    private SimDownQueues Queues(uint node)
    {
        RingMachine machine = _sim.Machine(node)!;
        if (_queues[node] is not { } queues || queues.Incarnation != machine.Incarnation)
        {
            ulong inc = machine.Incarnation;
            queues = new SimDownQueues(inc, () => _sim.Config.HoldClientRequests && _incarnation[node] == inc && _tables[node] is { IsExchanging: true });
            _queues[node] = queues;
            machine.SendSource = queues;
        }
        return queues;
    }

    /// <summary>Lets the ring take held client requests once the exchange that held them is over.</summary>
    private void ReleaseHeld(uint node)
    {
        ulong inc = _incarnation[node];
        if (_queues[node] is not { ClientsWaiting: > 0 } queues || queues.Incarnation != inc) return;
        // Called while the simulator drains this daemon's outputs: ask the ring on the next event.
        _sim.At(_sim.Now, () =>
        {
            if (_sim.Machine(node)?.Incarnation == inc) _sim.Sendable(node);
        });
    }

    private void OnDelivery(uint node, RingDelivery d)
    {
        GroupTable table = Table(node);
        bool wasExchanging = table.IsExchanging;
        Deliver(node, table, d);
        if (wasExchanging && !table.IsExchanging) ReleaseHeld(node);
    }

    private void Deliver(uint node, GroupTable table, RingDelivery d)
    {
        switch (d)
        {
            case RingMessage m:
                if (GroupMessageCodec.TryDecode(m.Payload, out GroupMessage? gm) && gm is not null)
                {
                    GroupMessagesDelivered++;
                    if (table.IsExchanging && gm.Kind != GroupMessageKind.Groups && IsChurnClient(gm.Sender))
                    {
                        // J6: the down-queues hold client requests during an exchange, so none may be delivered in one.
                        _breaches.Add(new Violation("G-J6", $"{gm.Kind} of {gm.Sender} delivered during a state exchange ({m.Id} in {m.Conf})", _sim.Now, [new ProcId(node, _incarnation[node])]));
                    }

                    table.Deliver(gm, _outputs[node]);
                    if (!table.IsExchanging)
                    {
                        // G-P1: daemons that deliver this message in this configuration hold one table.
                        Record(node, new TraceEvent(TraceKind.GroupDigest, 0, 0, 0) { Message = m.Id, Service = m.Service, Conf = m.Conf, PayloadHash = Digest(table) });
                    }
                }
                break;
            case RingConfiguration c when c.Id.Kind == ConfKind.Transitional:
                string[] survivors = [.. c.Members.Select(x => _names[x])];
                Record(node, new TraceEvent(TraceKind.GroupConf, 0, 0, 0) { Conf = c.Id, Names = survivors });
                table.OnTransitional(survivors, TransMid(c.Id), _outputs[node]);
                break;
            case RingConfiguration c:
                if (table.RegId == Mid(c.Id.Ring)) break; // the boot singleton the table starts in
                string[] members = [.. c.Members.Select(x => _names[x])];
                Record(node, new TraceEvent(TraceKind.GroupConf, 0, 0, 0) { Conf = c.Id, Names = members });
                table.OnRegular(members, Mid(c.Id.Ring), _outputs[node]);
                break;
        }
    }

    /// <summary>G-P1 at the end of a quiescent run: every live daemon holds the same group table.</summary>
    public void Check(ICollection<Violation> violations)
    {
        uint? first = null;
        foreach (uint n in _sim.NodeIds)
        {
            if (!_sim.IsUp(n) || _tables[n] is not { } t) continue;
            if (t.IsExchanging) violations.Add(new Violation("G-P1", $"daemon {n} still in a group-state exchange", _sim.Now, [new ProcId(n, _incarnation[n])]));
            if (first is null)
            {
                first = n;
                continue;
            }
            GroupTable a = _tables[first.Value]!;
            if (!a.GroupNames.SequenceEqual(t.GroupNames, StringComparer.Ordinal))
            {
                violations.Add(new Violation("G-P1", $"daemons {first} and {n} end with different groups", _sim.Now, [new ProcId(first.Value, _incarnation[first.Value]), new ProcId(n, _incarnation[n])]));
                continue;
            }
            foreach (string g in a.GroupNames)
            {
                if (!a.MembersOf(g).SequenceEqual(t.MembersOf(g), StringComparer.Ordinal) || a.GroupIdOf(g) != t.GroupIdOf(g))
                {
                    violations.Add(new Violation("G-P1", $"daemons {first} and {n} end with different views of {g}: [{string.Join(",", a.MembersOf(g))}] id {a.GroupIdOf(g)} vs [{string.Join(",", t.MembersOf(g))}] id {t.GroupIdOf(g)}", _sim.Now, [new ProcId(first.Value, _incarnation[first.Value]), new ProcId(n, _incarnation[n])]));
                }
            }
        }
    }

    private sealed class Output(GroupSimulation owner, uint node) : IGroupTableOutput
    {
        public void DeliverData(string mailbox, GroupMessage message)
        {
        }

        public void DeliverMembership(string mailbox, ReadOnlyMemory<byte> frame) => owner.Record(node, GroupTraceEvents.Membership(mailbox, frame.Span));

        public void DataApplied(GroupMessage message, IReadOnlyCollection<string> recipients) =>
            owner.Record(node, new TraceEvent(TraceKind.GroupData, 0, 0, 0)
            {
                Sender = message.Sender,
                Groups = [.. message.Groups],
                PayloadHash = TraceEvent.Hash(message.Frame.Span),
                Names = [.. recipients.Order(StringComparer.Ordinal)],
            });

        public void MembershipEnded(string mailbox, string group) =>
            owner.Record(node, new TraceEvent(TraceKind.GroupKill, 0, 0, 0) { Client = mailbox, Group = group });

        // Called while the simulator drains this daemon's outputs: queue it now (the ring takes
        // nothing while outputs drain), and ask the ring for the token on the next event.
        public void SubmitGroupsState(GroupsStateMessage state)
        {
            ulong incarnation = owner._incarnation[node];
            owner.Queues(node).AddState(GroupMessageCodec.Encode(GroupMessage.GroupsState(owner._names[node], state)));
            owner._sim.At(owner._sim.Now, () =>
            {
                // A table's state must not outlive its incarnation (a restart starts with new queues).
                if (owner._sim.Machine(node)?.Incarnation == incarnation)
                {
                    owner._sim.Sendable(node);
                }
            });
        }
    }
}
