using Conclave.Protocol.Ring;

namespace Conclave.Protocol.Tracing;

/// <summary>A processor incarnation: the unit of a local log (ring-protocol.md §4.1).</summary>
public readonly record struct ProcId(uint Node, ulong Incarnation)
{
    /// <summary>Formats as <c>node#incarnation</c>.</summary>
    public override string ToString() => $"{Node}#{Incarnation}";
}

/// <summary>One processor incarnation's log and the indices built from it.</summary>
public sealed class ProcLog(ProcId id)
{
    /// <summary>The incarnation.</summary>
    public ProcId Id { get; } = id;
    /// <summary>Its events, in local order.</summary>
    public List<TraceEvent> Events { get; } = [];
    /// <summary>True if the log ends with a crash.</summary>
    public bool Crashed { get; internal set; }
    /// <summary>Position of each delivered message in <see cref="Events"/>.</summary>
    public Dictionary<MessageId, int> DeliveredAt { get; } = [];
    /// <summary>Messages delivered per configuration, in order.</summary>
    public Dictionary<ConfId, List<MessageId>> DeliveredIn { get; } = [];
    /// <summary>Configurations installed, in order.</summary>
    public List<ConfId> Installed { get; } = [];
}

/// <summary>
/// Indices over a merged trace (ring-protocol.md §4.3 step 1), shared by the EVS rules and by any
/// extension rule (the group invariants G-P1..G-P7 plug in through <see cref="ITraceRule"/>).
/// </summary>
public sealed class TraceIndex
{
    /// <summary>Builds the indices; events of one incarnation must appear in its local order.</summary>
    public TraceIndex(IReadOnlyList<TraceEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        int sends = 0;
        foreach (TraceEvent e in events)
        {
            if (e.Kind == TraceKind.Send) sends++;
        }
        // Sized once: these hold one entry per message, and growing them was a large share of a check's allocation.
        SendOf = new(sends);
        SendPos = new(sends);
        RingSeqOf = new(sends);
        foreach (TraceEvent e in events)
        {
            if (e.Kind == TraceKind.Healed)
            {
                HealTime = e.TimeUs;
                continue;
            }
            var id = new ProcId(e.Node, e.Incarnation);
            if (!Procs.TryGetValue(id, out ProcLog? log))
            {
                log = new ProcLog(id);
                Procs.Add(id, log);
                Order.Add(id);
            }
            int pos = log.Events.Count;
            log.Events.Add(e);
            switch (e.Kind)
            {
                case TraceKind.Crash:
                    log.Crashed = true;
                    break;
                case TraceKind.Send:
                    SendOf.TryAdd(e.Message, e);
                    SendPos[e.Message] = (id, pos);
                    break;
                case TraceKind.Conf:
                    log.Installed.Add(e.Conf);
                    if (!Installers.TryGetValue(e.Conf, out List<(ProcId, uint[])>? list)) Installers[e.Conf] = list = [];
                    list.Add((id, e.Members ?? []));
                    ConfMembers.TryAdd(e.Conf, e.Members ?? []);
                    break;
                case TraceKind.Deliver:
                    log.DeliveredAt.TryAdd(e.Message, pos);
                    if (!log.DeliveredIn.TryGetValue(e.Conf, out List<MessageId>? inConf)) log.DeliveredIn[e.Conf] = inConf = [];
                    inConf.Add(e.Message);
                    RingSeqOf.TryAdd(e.Message, (e.Ring, e.Seq));
                    if (!DeliveredFromRing.TryGetValue(e.Ring, out Dictionary<ulong, MessageId>? byRing)) DeliveredFromRing[e.Ring] = byRing = [];
                    byRing.TryAdd(e.Seq, e.Message);
                    break;
            }
        }
        Order.Sort((a, b) => a.Node != b.Node ? a.Node.CompareTo(b.Node) : a.Incarnation.CompareTo(b.Incarnation));
    }

    /// <summary>Logs per incarnation.</summary>
    public Dictionary<ProcId, ProcLog> Procs { get; } = [];
    /// <summary>Incarnations sorted by node, then incarnation (the deterministic iteration order).</summary>
    public List<ProcId> Order { get; } = [];
    /// <summary>The Send event of each message.</summary>
    public Dictionary<MessageId, TraceEvent> SendOf { get; }
    /// <summary>Where each message was sent.</summary>
    public Dictionary<MessageId, (ProcId Proc, int Pos)> SendPos { get; }
    /// <summary>Installers of each configuration with the member list each installed.</summary>
    public Dictionary<ConfId, List<(ProcId Proc, uint[] Members)>> Installers { get; } = [];
    /// <summary>Members of each configuration (as first installed).</summary>
    public Dictionary<ConfId, uint[]> ConfMembers { get; } = [];
    /// <summary>The ring and seq each message was sequenced at (first delivery seen).</summary>
    public Dictionary<MessageId, (RingId Ring, ulong Seq)> RingSeqOf { get; }
    /// <summary>Per ring: messages delivered anywhere, by seq.</summary>
    public Dictionary<RingId, Dictionary<ulong, MessageId>> DeliveredFromRing { get; } = [];

    private readonly Dictionary<RingId, ulong[]> _sortedSeqs = [];

    /// <summary>The seqs of <see cref="DeliveredFromRing"/> for <paramref name="ring"/>, ascending (sorted once per ring).</summary>
    public ulong[] SeqsOf(RingId ring)
    {
        if (_sortedSeqs.TryGetValue(ring, out ulong[]? seqs)) return seqs;
        seqs = DeliveredFromRing.TryGetValue(ring, out Dictionary<ulong, MessageId>? byRing) ? [.. byRing.Keys] : [];
        Array.Sort(seqs);
        _sortedSeqs[ring] = seqs;
        return seqs;
    }
    /// <summary>Start of the quiescent suffix, or -1 if the trace has none.</summary>
    public long HealTime { get; } = -1;

    /// <summary>Live incarnations at the end: the last incarnation of each node, if it did not crash.</summary>
    public IEnumerable<ProcLog> Live()
    {
        for (int i = 0; i < Order.Count; i++)
        {
            bool last = i + 1 == Order.Count || Order[i + 1].Node != Order[i].Node;
            if (last && !Procs[Order[i]].Crashed) yield return Procs[Order[i]];
        }
    }
}

/// <summary>A property violation found by the checker.</summary>
/// <param name="Property">The property, e.g. <c>P6a</c> or <c>G-P1</c>.</param>
/// <param name="Message">What went wrong, naming processors and messages.</param>
/// <param name="TimeUs">When (the event that exposed it), for slicing the trace.</param>
/// <param name="Procs">The processors involved.</param>
public sealed record Violation(string Property, string Message, long TimeUs, ProcId[] Procs)
{
    /// <summary>Formats as one line.</summary>
    public override string ToString() => $"{Property} at {TimeUs}us [{string.Join(",", Procs)}]: {Message}";
}

/// <summary>A checkable property over a trace: the extension point for the group invariants.</summary>
public interface ITraceRule
{
    /// <summary>Adds every violation found in <paramref name="index"/> to <paramref name="violations"/>.</summary>
    void Check(TraceIndex index, ICollection<Violation> violations);
}
