using Conclave.Protocol.Ring;

namespace Conclave.Protocol.Tracing;

/// <summary>
/// The EVS properties P1–P12 of ring-protocol.md §4.2, checked as §4.3 describes. Liveness parts
/// (P3, P10's delivery clause, P12) are checked only when the trace has a quiescent suffix
/// (a <see cref="TraceKind.Healed"/> event) and the run was long enough to settle.
/// Not checked: the receive-log oracles of P10 and P11d, and P11c.
/// </summary>
public sealed class EvsRules : ITraceRule
{
    /// <inheritdoc/>
    public void Check(TraceIndex index, ICollection<Violation> violations)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(violations);
        NoDuplicationNoCreation(index, violations);
        Configurations(index, violations);
        DeliveryConfiguration(index, violations);
        FailureAtomicity(index, violations);
        TotalOrder(index, violations);
        CausalInTrans(index, violations);
        Fifo(index, violations);
        Safe(index, violations);
        if (index.HealTime >= 0) Liveness(index, violations);
    }

    private static void Add(ICollection<Violation> v, string p, string msg, long t, params ProcId[] procs) => v.Add(new Violation(p, msg, t, procs));

    // P1, P2
    private static void NoDuplicationNoCreation(TraceIndex index, ICollection<Violation> v)
    {
        foreach (ProcId id in index.Order)
        {
            ProcLog log = index.Procs[id];
            for (int i = 0; i < log.Events.Count; i++)
            {
                TraceEvent e = log.Events[i];
                if (e.Kind != TraceKind.Deliver) continue;
                // The index keeps each message's first delivery here, and the first message seen at each ring seq.
                if (log.DeliveredAt[e.Message] != i) Add(v, "P1", $"{e.Message} delivered twice", e.TimeUs, id);
                MessageId other = index.DeliveredFromRing[e.Ring][e.Seq];
                if (other != e.Message) Add(v, "P1", $"ring seq {e.Ring}/{e.Seq} names both {other} and {e.Message}", e.TimeUs, id);
                if (!index.SendOf.TryGetValue(e.Message, out TraceEvent? send)) Add(v, "P2", $"{e.Message} delivered but never sent", e.TimeUs, id);
                else if (send.PayloadHash != e.PayloadHash) Add(v, "P2", $"{e.Message} delivered with a different payload", e.TimeUs, id);
            }
        }
    }

    // P5 a-f, P11b
    private static void Configurations(TraceIndex index, ICollection<Violation> v)
    {
        foreach ((ConfId conf, List<(ProcId Proc, uint[] Members)> installers) in index.Installers)
        {
            uint[] first = installers[0].Members;
            foreach ((ProcId p, uint[] members) in installers)
            {
                if (!members.AsSpan().SequenceEqual(first)) Add(v, "P5b", $"{conf} installed with different members", 0, installers[0].Proc, p);
            }
            if (conf.Kind == ConfKind.Transitional
                && index.ConfMembers.TryGetValue(ConfId.Reg(conf.Old), out uint[]? c1) && index.ConfMembers.TryGetValue(ConfId.Reg(conf.Ring), out uint[]? c2))
            {
                foreach (uint m in first)
                {
                    if (Array.IndexOf(c1, m) < 0 || Array.IndexOf(c2, m) < 0) Add(v, "P5e", $"{conf} member {m} not in both regular configurations", 0, installers[0].Proc);
                }
            }
        }

        var lastRegByNode = new Dictionary<uint, RingId>();
        foreach (ProcId id in index.Order)
        {
            ProcLog log = index.Procs[id];
            ConfId? prevConf = null;
            RingId? prevReg = null;
            ConfId? openTrans = null;
            bool firstReg = true;
            foreach (TraceEvent e in log.Events)
            {
                if (e.Kind == TraceKind.Deliver && openTrans is { } t && e.Conf != t)
                {
                    Add(v, "P5d", $"delivery in {e.Conf} between {t} and its regular configuration", e.TimeUs, id);
                }
                if (e.Kind is TraceKind.Send && openTrans is not null)
                {
                    // Sends are application events and may interleave; nothing to check.
                }
                if (e.Kind != TraceKind.Conf) continue;
                uint[] members = e.Members ?? [];
                if (Array.IndexOf(members, id.Node) < 0) Add(v, "P5a", $"{e.Conf} installed without its installer", e.TimeUs, id);
                if (e.Conf.Kind == ConfKind.Transitional)
                {
                    if (openTrans is not null) Add(v, "P5d", $"{e.Conf} follows {openTrans} without a regular configuration", e.TimeUs, id);
                    if (prevReg is { } pr && pr != e.Conf.Old) Add(v, "P5d", $"{e.Conf} but the previous regular configuration was {pr}", e.TimeUs, id);
                    openTrans = e.Conf;
                }
                else
                {
                    if (openTrans is { } t2 && t2.Ring != e.Conf.Ring) Add(v, "P5d", $"{t2} followed by {e.Conf}", e.TimeUs, id);
                    if (!firstReg && (prevConf is null || prevConf.Value.Kind != ConfKind.Transitional)) Add(v, "P5f", $"{e.Conf} not preceded by a transitional configuration", e.TimeUs, id);
                    if (lastRegByNode.TryGetValue(id.Node, out RingId last) && e.Conf.Ring <= last) Add(v, "P5c", $"{e.Conf} does not increase over {last}", e.TimeUs, id);
                    lastRegByNode[id.Node] = e.Conf.Ring;
                    // P11b: whoever came straight from C1 into C2 must be in Trans(C2, C1).
                    if (prevReg is { } c1 && index.ConfMembers.TryGetValue(ConfId.Trans(e.Conf.Ring, c1), out uint[]? transMembers)
                        && Array.IndexOf(transMembers, id.Node) < 0)
                    {
                        Add(v, "P11b", $"{id} went from {c1} to {e.Conf.Ring} but is not in its transitional configuration", e.TimeUs, id);
                    }
                    prevReg = e.Conf.Ring;
                    openTrans = null;
                    firstReg = false;
                }
                prevConf = e.Conf;
            }
        }
    }

    // P4 / P11a
    private static void DeliveryConfiguration(TraceIndex index, ICollection<Violation> v)
    {
        foreach (ProcId id in index.Order)
        {
            ConfId cur = default;
            uint[] curMembers = [];
            foreach (TraceEvent e in index.Procs[id].Events)
            {
                if (e.Kind == TraceKind.Conf)
                {
                    cur = e.Conf;
                    curMembers = e.Members ?? [];
                }
                if (e.Kind != TraceKind.Deliver) continue;
                RingId orig = e.Conf.Kind == ConfKind.Regular ? e.Conf.Ring : e.Conf.Old;
                if (e.Conf != cur) Add(v, "P4", $"{e.Message} delivered in {e.Conf} while in {cur}", e.TimeUs, id);
                if (orig != e.Ring) Add(v, "P4", $"{e.Message} sequenced in {e.Ring} delivered in {e.Conf}", e.TimeUs, id);
                if (Array.IndexOf(curMembers, id.Node) < 0) Add(v, "P4", $"{e.Message} delivered outside the installer's configuration", e.TimeUs, id);
                if (index.ConfMembers.TryGetValue(ConfId.Reg(e.Ring), out uint[]? origMembers) && Array.IndexOf(origMembers, e.Message.Node) < 0)
                {
                    Add(v, "P4", $"{e.Message} sequenced in {e.Ring} whose members exclude its originator", e.TimeUs, id);
                }
            }
        }
    }

    // P6 a-b
    private static void FailureAtomicity(TraceIndex index, ICollection<Violation> v)
    {
        foreach ((ConfId conf, List<(ProcId Proc, uint[] Members)> installers) in index.Installers)
        {
            if (conf.Kind != ConfKind.Transitional || installers.Count < 2) continue;
            ProcLog a = index.Procs[installers[0].Proc];
            for (int i = 1; i < installers.Count; i++)
            {
                ProcLog b = index.Procs[installers[i].Proc];
                if (!SameSet(a, b, ConfId.Reg(conf.Old))) Add(v, "P6a", $"installers of {conf} delivered different messages in {conf.Old}", 0, a.Id, b.Id);
                if (!SameSet(a, b, conf) && Completed(a, conf) && Completed(b, conf)) Add(v, "P6b", $"installers of {conf} delivered different messages in it", 0, a.Id, b.Id);
            }
        }
    }

    private static bool Completed(ProcLog log, ConfId trans) => log.Installed.Contains(ConfId.Reg(trans.Ring));

    private static bool SameSet(ProcLog a, ProcLog b, ConfId conf)
    {
        a.DeliveredIn.TryGetValue(conf, out List<MessageId>? x);
        b.DeliveredIn.TryGetValue(conf, out List<MessageId>? y);
        x ??= [];
        y ??= [];
        if (x.Count != y.Count) return false;
        var set = new HashSet<MessageId>(x);
        return y.All(set.Contains);
    }

    // P7a (ringSeq order, valid with P1's uniqueness) and P7b
    private static void TotalOrder(TraceIndex index, ICollection<Violation> v)
    {
        foreach (ProcId id in index.Order)
        {
            ProcLog log = index.Procs[id];
            (RingId Ring, ulong Seq) last = default;
            bool any = false;
            foreach (TraceEvent e in log.Events)
            {
                if (e.Kind != TraceKind.Deliver) continue;
                if (any && (e.Ring < last.Ring || (e.Ring == last.Ring && e.Seq <= last.Seq))) Add(v, "P7a", $"{e.Message} at {e.Ring}/{e.Seq} delivered after {last.Ring}/{last.Seq}", e.TimeUs, id);
                last = (e.Ring, e.Seq);
                any = true;
            }
            foreach ((ConfId conf, List<MessageId> delivered) in log.DeliveredIn)
            {
                if (conf.Kind != ConfKind.Regular || delivered.Count == 0 || !index.DeliveredFromRing.TryGetValue(conf.Ring, out Dictionary<ulong, MessageId>? all)) continue;
                ulong maxSeq = index.RingSeqOf[delivered[^1]].Seq;
                foreach (ulong seq in index.SeqsOf(conf.Ring))
                {
                    if (seq >= maxSeq) break;
                    MessageId m = all[seq];
                    bool mine = log.DeliveredAt.TryGetValue(m, out int at) && log.Events[at].Conf == conf;
                    if (!mine) Add(v, "P7b", $"{m} ({conf.Ring}/{seq}) skipped in {conf} before seq {maxSeq}", 0, id);
                }
            }
        }
    }

    // P8: in a regular configuration P7b already implies it (causal predecessors of the same ring have
    // lower seqs and were delivered somewhere); deliveries in a transitional one are checked in full.
    private static void CausalInTrans(TraceIndex index, ICollection<Violation> v)
    {
        // Per (originator, ring): the highest originator position whose predecessors this receiver
        // already showed delivered earlier; a later delivery's walk can stop there (its own position
        // is later still), which keeps the rule linear instead of quadratic.
        var verifiedUpTo = new Dictionary<(ProcId, RingId), int>();
        foreach (ProcId id in index.Order)
        {
            ProcLog log = index.Procs[id];
            verifiedUpTo.Clear();
            foreach (TraceEvent e in log.Events)
            {
                if (e.Kind != TraceKind.Deliver || e.Conf.Kind != ConfKind.Transitional) continue;
                if (!index.SendPos.TryGetValue(e.Message, out (ProcId Proc, int Pos) sp)) continue;
                List<TraceEvent> origin = index.Procs[sp.Proc].Events;
                int myPos = log.DeliveredAt[e.Message];
                int stopAt = verifiedUpTo.GetValueOrDefault((sp.Proc, e.Ring), -1);
                bool clean = true;
                for (int i = sp.Pos - 1; i > stopAt; i--)
                {
                    TraceEvent pred = origin[i];
                    if (pred.Kind is not (TraceKind.Deliver or TraceKind.Send)) continue;
                    if (!index.RingSeqOf.TryGetValue(pred.Message, out (RingId Ring, ulong Seq) rs)) continue;
                    if (rs.Ring != e.Ring)
                    {
                        if (rs.Ring < e.Ring && pred.Kind == TraceKind.Deliver) break;
                        continue;
                    }
                    if (!log.DeliveredAt.TryGetValue(pred.Message, out int pos) || pos > myPos)
                    {
                        Add(v, "P8", $"{e.Message} delivered in {e.Conf} without its causal predecessor {pred.Message}", e.TimeUs, id, sp.Proc);
                        clean = false;
                        break;
                    }
                }
                if (clean && sp.Pos - 1 > stopAt) verifiedUpTo[(sp.Proc, e.Ring)] = sp.Pos - 1;
            }
        }
    }

    // P9
    private static void Fifo(TraceIndex index, ICollection<Violation> v)
    {
        foreach (ProcId sender in index.Order)
        {
            MessageId? prev = null;
            foreach (TraceEvent e in index.Procs[sender].Events)
            {
                if (e.Kind != TraceKind.Send) continue;
                if (prev is { } m && index.RingSeqOf.TryGetValue(m, out (RingId Ring, ulong Seq) rm) && index.RingSeqOf.TryGetValue(e.Message, out (RingId Ring, ulong Seq) rn))
                {
                    foreach (ProcId q in index.Order)
                    {
                        ProcLog log = index.Procs[q];
                        if (!log.DeliveredAt.TryGetValue(e.Message, out int pn)) continue;
                        if (log.DeliveredAt.TryGetValue(m, out int pm))
                        {
                            if (pm > pn) Add(v, "P9", $"{q} delivered {e.Message} before {m}", 0, q, sender);
                        }
                        else if (rm.Ring == rn.Ring)
                        {
                            Add(v, "P9", $"{q} delivered {e.Message} but not its FIFO predecessor {m} of the same ring", 0, q, sender);
                        }
                    }
                }
                prev = e.Message;
            }
        }
    }

    // P10 (the delivery clause; the receive-log oracle is not checked here)
    private static void Safe(TraceIndex index, ICollection<Violation> v)
    {
        var checkedPairs = new HashSet<(MessageId, ConfId)>();
        var live = new HashSet<ProcId>();
        if (index.HealTime >= 0)
        {
            foreach (ProcLog l in index.Live()) live.Add(l.Id);
        }
        foreach (ProcId id in index.Order)
        {
            foreach (TraceEvent e in index.Procs[id].Events)
            {
                if (e.Kind != TraceKind.Deliver || e.Service != RingService.Safe || !checkedPairs.Add((e.Message, e.Conf))) continue;
                if (!index.Installers.TryGetValue(e.Conf, out List<(ProcId Proc, uint[] Members)>? installers)) continue;
                foreach ((ProcId r, _) in installers)
                {
                    ProcLog log = index.Procs[r];
                    if (log.DeliveredAt.TryGetValue(e.Message, out int at))
                    {
                        ConfId where = log.Events[at].Conf;
                        bool ok = where == e.Conf || (e.Conf.Kind == ConfKind.Regular && where.Kind == ConfKind.Transitional && where.Old == e.Conf.Ring);
                        if (!ok) Add(v, "P10", $"safe {e.Message} delivered by {id} in {e.Conf} but by {r} in {where}", e.TimeUs, id, r);
                        continue;
                    }
                    if (log.Crashed) continue;
                    // r moved on: it must have delivered m before installing the next configuration.
                    if (MovedOn(log, e.Conf) || live.Contains(r)) Add(v, "P10", $"safe {e.Message} delivered by {id} in {e.Conf} never delivered by member {r}", e.TimeUs, id, r);
                }
            }
        }
    }

    /// <summary>True if <paramref name="log"/> installed the configuration that follows <paramref name="conf"/>.</summary>
    private static bool MovedOn(ProcLog log, ConfId conf)
    {
        if (conf.Kind != ConfKind.Regular) return log.Installed.Contains(ConfId.Reg(conf.Ring));
        foreach (ConfId c in log.Installed)
        {
            if (c.Kind == ConfKind.Transitional && c.Old == conf.Ring) return true;
        }
        return false;
    }

    // P3 on the quiescent suffix, P12
    private static void Liveness(TraceIndex index, ICollection<Violation> v)
    {
        List<ProcLog> live = [.. index.Live()];
        if (live.Count == 0) return;
        uint[] liveNodes = [.. live.Select(l => l.Id.Node).Order()];
        ConfId? common = null;
        foreach (ProcLog log in live)
        {
            ConfId? last = log.Installed.Count > 0 ? log.Installed[^1] : null;
            if (last is not { Kind: ConfKind.Regular } reg)
            {
                Add(v, "P12", $"{log.Id} ends outside a regular configuration", 0, log.Id);
                continue;
            }
            if (!index.ConfMembers[reg].AsSpan().SequenceEqual(liveNodes)) Add(v, "P12", $"{log.Id} ends in {reg} whose members are not exactly the live daemons", 0, log.Id);
            if (common is null) common = reg;
            else if (common != reg) Add(v, "P12", $"{log.Id} ends in {reg}, others in {common}", 0, log.Id);
            foreach (TraceEvent e in log.Events)
            {
                if (e.Kind == TraceKind.Send && !log.DeliveredAt.ContainsKey(e.Message)) Add(v, "P3", $"{e.Message} sent by live {log.Id} never delivered to itself", e.TimeUs, log.Id);
            }
        }
    }
}
