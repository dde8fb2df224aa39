using Conclave.Protocol.Ring;
using Conclave.Protocol.Tracing;

namespace Conclave.Protocol.Simulation;

/// <summary>
/// K ring cores on a virtual clock with one event queue ordered by (time, sequence), a seeded
/// network model (loss, duplication, reordering, delay, one-way links, partitions) and node faults
/// (crash, restart, pause). Everything random follows from <see cref="SimulationConfig.Seed"/>.
/// </summary>
internal sealed class Simulator
{
    private readonly PriorityQueue<SimEvent, (long Time, long Seq)> _queue = new();
    private readonly SimNode[] _nodes;
    private readonly bool[,] _link;
    private readonly SimRandom _net;
    private readonly SimRandom _load;
    private readonly List<RingOutput> _outputs = [];
    private readonly Stack<SimEvent> _pool = new();
    private readonly byte[] _payload = new byte[48];
    private long _seq;

    public Simulator(SimulationConfig config)
    {
        Config = config;
        _net = new SimRandom(config.Seed, 1);
        _load = new SimRandom(config.Seed, 2);
        Scenario = new SimRandom(config.Seed, 3);
        _nodes = new SimNode[config.Daemons + 1];
        _link = new bool[config.Daemons + 1, config.Daemons + 1];
        for (uint i = 1; i <= config.Daemons; i++)
        {
            _nodes[i] = new SimNode(i) { TimerRate = 1.0 + (((_net.NextDouble() * 2) - 1) * config.ClockSkew) };
        }
        HealNetwork();
        Loss = config.Loss;
        Duplication = config.Duplication;
    }

    public SimulationConfig Config { get; }
    public SimRandom Scenario { get; }
    public long Now { get; private set; }
    public List<TraceEvent> Trace { get; } = [];
    public double Loss { get; set; }
    public double Duplication { get; set; }
    public long LoadUntil { get; set; } = long.MaxValue;
    public long HealTime { get; private set; } = -1;
    public long Events { get; private set; }
    public long PacketsSent { get; private set; }

    /// <summary>Scripted drop: return true to drop a packet (from, to, bytes).</summary>
    public Func<uint, uint, byte[], bool>? DropHook { get; set; }

    /// <summary>Observer of every delivery, for the group layer or tests.</summary>
    public Action<uint, RingDelivery>? OnDelivery { get; set; }

    /// <summary>Debugging tap on every dispatched event (time, kind, node).</summary>
    internal Action<long, SimEvent>? Tap { get; set; }

    public int Count => Config.Daemons;

    public IEnumerable<uint> NodeIds
    {
        get
        {
            for (uint i = 1; i <= Config.Daemons; i++) yield return i;
        }
    }

    public RingMachine? Machine(uint node) => _nodes[node].Machine;

    public bool IsUp(uint node) => _nodes[node].Up;

    public long DeliveredCount
    {
        get
        {
            long sum = 0;
            for (int i = 1; i < _nodes.Length; i++) sum += _nodes[i].Delivered;
            return sum;
        }
    }

    public long ConfigurationCount
    {
        get
        {
            long sum = 0;
            for (int i = 1; i < _nodes.Length; i++) sum += _nodes[i].Configurations;
            return sum;
        }
    }

    // ---- scenario API ----

    public void At(long timeUs, Action action)
    {
        SimEvent e = Rent(SimEventKind.Script, 0, 0);
        e.Script = action;
        Enqueue(timeUs, e);
    }

    public void BootAll()
    {
        foreach (uint n in NodeIds) Boot(n, keepRingSeq: true);
    }

    public void StartLoad(long fromUs)
    {
        if (Config.SendRate <= 0) return;
        foreach (uint n in NodeIds) ScheduleSend(n, fromUs);
    }

    public void Partition(params uint[][] groups)
    {
        for (int a = 1; a < _nodes.Length; a++)
        {
            for (int b = 1; b < _nodes.Length; b++) _link[a, b] = a == b;
        }
        foreach (uint[] g in groups)
        {
            foreach (uint a in g)
            {
                foreach (uint b in g) _link[a, b] = true;
            }
        }
    }

    public void SetLink(uint from, uint to, bool up) => _link[from, to] = up;

    public void HealNetwork()
    {
        for (int a = 1; a < _nodes.Length; a++)
        {
            for (int b = 1; b < _nodes.Length; b++) _link[a, b] = true;
        }
    }

    /// <summary>Heal everything: links, loss, duplication; restart crashed daemons; start the quiescent suffix.</summary>
    public void HealAll()
    {
        HealNetwork();
        Loss = 0;
        Duplication = 0;
        DropHook = null;
        foreach (uint n in NodeIds)
        {
            _nodes[n].PausedUntil = 0;
            if (!_nodes[n].Up) Boot(n, keepRingSeq: true);
        }
        HealTime = Now;
        Trace.Add(new TraceEvent(TraceKind.Healed, Now, 0, 0));
    }

    public void Crash(uint node)
    {
        SimNode n = _nodes[node];
        if (!n.Up) return;
        Trace.Add(new TraceEvent(TraceKind.Crash, Now, node, n.Incarnation));
        n.Machine = null;
    }

    public void Restart(uint node, bool keepRingSeq = true)
    {
        Crash(node);
        Boot(node, keepRingSeq);
    }

    public void Pause(uint node, long durationUs) => _nodes[node].PausedUntil = Math.Max(_nodes[node].PausedUntil, Now + durationUs);

    public void Submit(uint node, RingService service, byte[] payload)
    {
        SimNode n = _nodes[node];
        if (n.Machine is null) return;
        n.Machine.Submit(payload, service, Now, out _);
        Drain(n);
    }

    /// <summary>The layer above put messages in the node's send source: let its ring take them.</summary>
    public void Sendable(uint node)
    {
        SimNode n = _nodes[node];
        if (n.Machine is null) return;
        n.Machine.OnSendable(Now);
        Drain(n);
    }

    public void Boot(uint node, bool keepRingSeq)
    {
        SimNode n = _nodes[node];
        if (n.Up) return;
        var m = new RingMachine(node, Config.Ring);
        n.Machine = m;
        // Without the persisted seq only the ring seq is lost: the simulator keeps the true incarnation
        // so message identities stay unique and the checker can see the forgotten seq (P5c).
        foreach (SimTimerSlot slot in n.Timers) slot.Reset();
        m.Boot(keepRingSeq ? n.StoredRingSeq : 0, n.Incarnation, Now);
        n.Incarnation = m.Incarnation;
        Drain(n);
    }

    /// <summary>Runs events until the queue is empty or the clock passes <paramref name="untilUs"/>.</summary>
    public void Run(long untilUs)
    {
        while (_queue.TryPeek(out _, out (long Time, long Seq) key) && key.Time <= untilUs)
        {
            SimEvent e = _queue.Dequeue();
            Now = key.Time;
            Events++;
            Tap?.Invoke(Now, e);
            if (Dispatch(e, key.Seq)) Recycle(e);
        }
        Now = Math.Max(Now, untilUs);
    }

    // ---- internals ----

    private void Enqueue(long time, SimEvent e) => _queue.Enqueue(e, (time, _seq++));

    private SimEvent Rent(SimEventKind kind, uint node, ulong incarnation)
    {
        SimEvent e = _pool.Count > 0 ? _pool.Pop() : new SimEvent();
        e.Kind = kind;
        e.Node = node;
        e.Incarnation = incarnation;
        return e;
    }

    private void Recycle(SimEvent e)
    {
        e.Clear();
        _pool.Push(e);
    }

    /// <summary>Handles one event; returns false when the event was queued again (not to be recycled).</summary>
    private bool Dispatch(SimEvent e, long seq)
    {
        if (e.Kind == SimEventKind.Script)
        {
            e.Script!();
            return true;
        }
        SimNode n = _nodes[e.Node];
        if (n.Machine is null || n.Incarnation != e.Incarnation) return true; // lost with a crash
        SimTimerSlot? slot = null;
        if (e.Kind == SimEventKind.Timer)
        {
            slot = n.Timers[(int)e.Timer];
            if (slot.Queued != e) return true; // superseded by an earlier deadline
            if (!slot.Armed)
            {
                slot.Queued = null;
                return true;
            }
            if (slot.Due > Now || (slot.Due == Now && slot.DueSeq > seq))
            {
                QueueTimer(slot, e, slot.Due, slot.DueSeq); // re-armed since: fire at the latest deadline
                return false;
            }
        }
        if (n.PausedUntil > Now)
        {
            // Handled, in order, when the pause ends.
            if (slot is null) Enqueue(n.PausedUntil, e);
            else QueueTimer(slot, e, n.PausedUntil, _seq++);
            return false;
        }
        switch (e.Kind)
        {
            case SimEventKind.Packet:
                n.Machine.OnPacket(e.Packet, Now);
                break;
            case SimEventKind.Timer:
                slot!.Queued = null;
                slot.Armed = false;
                n.Machine.OnTimer(e.Timer, slot.Generation, Now);
                break;
            case SimEventKind.ClientSend:
                if (Now < LoadUntil)
                {
                    Span<byte> payload = _payload.AsSpan(0, 16 + _load.Next(32));
                    for (int i = 0; i < payload.Length; i++) payload[i] = (byte)_load.NextU64();
                    double r = _load.NextDouble();
                    RingService svc = r < Config.SafeFraction ? RingService.Safe
                        : r < Config.SafeFraction + ((1 - Config.SafeFraction) * 0.8) ? RingService.Agreed
                        : r < Config.SafeFraction + ((1 - Config.SafeFraction) * 0.9) ? RingService.Fifo : RingService.Reliable;
                    n.Machine.Submit(payload, svc, Now, out _);
                    ScheduleSend(e.Node, Now);
                }
                break;
        }
        Drain(n);
        return true;
    }

    private void QueueTimer(SimTimerSlot slot, SimEvent e, long time, long seq)
    {
        slot.Queued = e;
        slot.QueuedTime = time;
        slot.QueuedSeq = seq;
        _queue.Enqueue(e, (time, seq));
    }

    private void ArmTimer(SimNode n, SetTimer t)
    {
        long delay = (long)((t.DeadlineUs - Now) * n.TimerRate);
        long due = Now + Math.Max(0, delay);
        long seq = _seq++;
        SimTimerSlot slot = n.Timers[(int)t.Timer];
        slot.Armed = true;
        slot.Due = due;
        slot.DueSeq = seq;
        slot.Generation = t.Generation;
        if (slot.Queued is null || due < slot.QueuedTime || (due == slot.QueuedTime && seq < slot.QueuedSeq))
        {
            SimEvent e = Rent(SimEventKind.Timer, n.Id, n.Incarnation);
            e.Timer = t.Timer;
            QueueTimer(slot, e, due, seq);
        }
    }

    private void ScheduleSend(uint node, long from)
    {
        SimNode n = _nodes[node];
        long delay = Math.Max(1, _load.Exponential(1_000_000.0 / Config.SendRate));
        Enqueue(from + delay, Rent(SimEventKind.ClientSend, node, n.Incarnation));
    }

    private void Drain(SimNode n)
    {
        if (n.Machine is null) return;
        _outputs.Clear();
        n.Machine.TakeOutputs(_outputs);
        foreach (RingOutput o in _outputs)
        {
            switch (o)
            {
                case SendPacket p:
                    if (p.To == SendPacket.Multicast)
                    {
                        for (uint b = 1; b < _nodes.Length; b++)
                        {
                            if (b != n.Id) Transmit(n.Id, b, p.Packet);
                        }
                    }
                    else
                    {
                        Transmit(n.Id, p.To, p.Packet);
                    }
                    break;
                case SetTimer t:
                    ArmTimer(n, t);
                    break;
                case CancelTimer c:
                    n.Timers[(int)c.Timer].Armed = false;
                    break;
                case Deliver d:
                    if (d.Delivery is RingMessage) n.Delivered++;
                    else n.Configurations++;
                    OnDelivery?.Invoke(n.Id, d.Delivery);
                    break;
                case Persist s:
                    n.StoredRingSeq = s.RingSeq;
                    n.StoredIncarnation = s.Incarnation;
                    break;
                case Trace tr:
                    if (Config.RecordTrace) Trace.Add(tr.Event);
                    break;
            }
        }
    }

    private void Transmit(uint from, uint to, byte[] packet)
    {
        PacketsSent++;
        SimNode dest = _nodes[to];
        if (from == to)
        {
            EnqueuePacket(Now + Config.DelayMinUs, dest, packet);
            return;
        }
        if (!_link[from, to] || !dest.Up) return;
        if (DropHook is not null && DropHook(from, to, packet)) return;
        if (_net.Chance(Loss)) return;
        int copies = _net.Chance(Duplication) ? 2 : 1;
        for (int i = 0; i < copies; i++)
        {
            long delay = _net.Chance(Config.TailProbability) ? _net.Range(Config.DelayMaxUs, Config.TailMaxUs) : _net.Range(Config.DelayMinUs, Config.DelayMaxUs);
            EnqueuePacket(Now + delay, dest, packet);
        }
    }

    private void EnqueuePacket(long time, SimNode dest, byte[] packet)
    {
        SimEvent e = Rent(SimEventKind.Packet, dest.Id, dest.Incarnation);
        e.Packet = packet;
        Enqueue(time, e);
    }
}
