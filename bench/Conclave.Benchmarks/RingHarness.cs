using Conclave.Protocol.Ring;

namespace Conclave.Benchmarks;

/// <summary>
/// N ring cores wired back to back: packets go through one FIFO with no delay and no loss, and
/// virtual time only advances (to the earliest armed timer) when no packet is in flight. What is
/// left to measure is the cores' own work: encoding, decoding, ordering and delivery.
/// </summary>
internal sealed class RingHarness
{
    private readonly RingMachine[] _machines;
    private readonly Queue<(uint To, byte[] Packet)> _inFlight = new();
    private readonly Dictionary<(uint Node, RingTimer Timer), (long Deadline, ulong Generation)> _timers = [];
    private readonly List<RingOutput> _outputs = [];
    private long _now;

    public RingHarness(int daemons, RingOptions options)
    {
        _machines = new RingMachine[daemons + 1];
        Delivered = new long[daemons + 1];
        for (uint n = 1; n <= daemons; n++)
        {
            _machines[n] = new RingMachine(n, options);
            _machines[n].Boot(0, 0, _now);
            Drain(n);
        }
    }

    /// <summary>Messages delivered per node (index 1..N).</summary>
    public long[] Delivered { get; }

    /// <summary>True once every core is operational in one ring of all daemons.</summary>
    public bool Formed
    {
        get
        {
            for (int n = 1; n < _machines.Length; n++)
            {
                if (_machines[n].State != RingState.Operational || _machines[n].Members.Count != _machines.Length - 1) return false;
            }
            return true;
        }
    }

    public void Submit(uint node, byte[] payload, RingService service)
    {
        _machines[node].Submit(payload, service, _now, out _);
        Drain(node);
    }

    /// <summary>Runs until <paramref name="done"/> holds (checked between packets).</summary>
    public void RunUntil(Func<bool> done)
    {
        while (!done())
        {
            if (_inFlight.TryDequeue(out (uint To, byte[] Packet) p))
            {
                _machines[p.To].OnPacket(p.Packet, _now);
                Drain(p.To);
            }
            else
            {
                FireEarliestTimer();
            }
        }
    }

    private void FireEarliestTimer()
    {
        (uint Node, RingTimer Timer) next = default;
        long deadline = long.MaxValue;
        foreach (((uint Node, RingTimer Timer) key, (long Deadline, ulong Generation) t) in _timers)
        {
            if (t.Deadline < deadline)
            {
                deadline = t.Deadline;
                next = key;
            }
        }

        if (deadline == long.MaxValue) throw new InvalidOperationException("Nothing in flight and no timer armed.");
        ulong generation = _timers[next].Generation;
        _timers.Remove(next);
        _now = Math.Max(_now, deadline);
        _machines[next.Node].OnTimer(next.Timer, generation, _now);
        Drain(next.Node);
    }

    private void Drain(uint node)
    {
        _outputs.Clear();
        _machines[node].TakeOutputs(_outputs);
        foreach (RingOutput o in _outputs)
        {
            switch (o)
            {
                case SendPacket { To: SendPacket.Multicast } m:
                    for (uint b = 1; b < _machines.Length; b++)
                    {
                        if (b != node) _inFlight.Enqueue((b, m.Packet));
                    }
                    break;
                case SendPacket u:
                    _inFlight.Enqueue((u.To, u.Packet));
                    break;
                case SetTimer t:
                    _timers[(node, t.Timer)] = (t.DeadlineUs, t.Generation);
                    break;
                case CancelTimer c:
                    _timers.Remove((node, c.Timer));
                    break;
                case Deliver { Delivery: RingMessage }:
                    Delivered[node]++;
                    break;
            }
        }
    }
}
