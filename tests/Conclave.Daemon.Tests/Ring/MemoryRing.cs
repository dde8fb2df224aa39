using System.Net;
using Conclave.Daemon.Ring;
using Conclave.Protocol.Groups;
using Conclave.Protocol.Ordering;
using Conclave.Protocol.Ring;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>
/// Several ring ordering layers wired in memory: a FIFO wire, a manual clock, and timers that fire
/// only when the wire is idle. Deterministic: the same steps give the same run.
/// </summary>
internal sealed class MemoryRing
{
    private readonly Queue<(uint From, uint To, byte[] Packet)> _wire = new();
    private long _now = 1_000_000;

    public MemoryRing(int count, RingLayerSettings? settings = null)
    {
        string[] names = [.. Enumerable.Range(1, count).Select(i => $"d{i}")];
        IPAddress[] addresses = [.. Enumerable.Range(1, count).Select(i => IPAddress.Parse($"127.0.0.{i}"))];
        var nodes = new RingNodes(names, addresses);
        Nodes = [.. Enumerable.Range(1, count).Select(i => new Node(this, (uint)i, nodes, settings ?? new RingLayerSettings()))];
        foreach (Node node in Nodes)
        {
            node.Layer.Boot(0, 0);
        }
    }

    public Node[] Nodes { get; }

    /// <summary>The manual clock (microseconds).</summary>
    public long Now => _now;

    /// <summary>Packets on the wire, not yet received.</summary>
    public int InFlight => _wire.Count;

    /// <summary>Steps the cluster until <paramref name="done"/> holds; fails after <paramref name="maxSteps"/>.</summary>
    public void RunUntil(Func<bool> done, int maxSteps = 2_000_000)
    {
        for (int step = 0; step < maxSteps; step++)
        {
            if (done())
            {
                return;
            }

            Step();
        }

        Assert.Fail("the cluster did not reach the condition");
    }

    private void Step()
    {
        if (_wire.TryDequeue(out var packet))
        {
            Node to = Nodes[packet.To - 1];
            if (!to.Crashed && !Nodes[packet.From - 1].Crashed)
            {
                to.Layer.OnPacket(packet.Packet);
            }

            return;
        }

        Node? next = null;
        RingTimer timer = default;
        long deadline = long.MaxValue;
        foreach (Node node in Nodes.Where(n => !n.Crashed))
        {
            foreach ((RingTimer t, (long at, ulong _)) in node.Timers)
            {
                if (at < deadline)
                {
                    (next, timer, deadline) = (node, t, at);
                }
            }
        }

        Assert.NotNull(next);
        _now = Math.Max(_now, deadline);
        ulong generation = next.Timers[timer].Generation;
        next.Timers.Remove(timer);
        next.Layer.OnTimer(timer, generation);
    }

    internal sealed class Node : IOrderingListener
    {
        private readonly MemoryRing _ring;

        public Node(MemoryRing ring, uint id, RingNodes nodes, RingLayerSettings settings)
        {
            _ring = ring;
            Id = id;
            Layer = new RingOrderingLayer(new RingMachine(id, new RingOptions()), nodes, this, settings, () => _ring._now, Output);
        }

        public uint Id { get; }

        public RingOrderingLayer Layer { get; }

        public bool Crashed { get; set; }

        public Dictionary<RingTimer, (long At, ulong Generation)> Timers { get; } = [];

        /// <summary>Deliveries and configurations, as comparable strings.</summary>
        public List<string> Log { get; } = [];

        public List<GroupMessage> Delivered { get; } = [];

        /// <summary>In the order they happened: "deliver", "write" (deliveries handed to clients), "send".</summary>
        public List<string> Events { get; } = [];

        public IReadOnlyList<string> Regular { get; private set; } = [];

        /// <summary>Group-state messages still to be delivered before a state exchange the test started ends.</summary>
        public int StatesToEndExchange { get; set; }

        public bool HoldsClientRequests => StatesToEndExchange > 0;

        public List<MembershipId> Ids { get; } = [];

        public void OnDeliver(GroupMessage message)
        {
            Delivered.Add(message);
            Events.Add("deliver");
            if (message.Kind == GroupMessageKind.Groups && StatesToEndExchange > 0)
            {
                StatesToEndExchange--;
            }

            Log.Add($"D {message.Sender} {message.Frame.Length}");
        }

        public void OnTransitional(IReadOnlyList<string> daemons, MembershipId id)
        {
            Ids.Add(id);
            Log.Add($"T {string.Join(",", daemons)} {id}");
        }

        public void OnRegular(IReadOnlyList<string> daemons, MembershipId id)
        {
            Ids.Add(id);
            Regular = daemons;
            Log.Add($"R {string.Join(",", daemons)} {id}");
        }

        public void WriteDeliveries() => Events.Add("write");

        private void Output(RingOutput output)
        {
            if (output is SendPacket)
            {
                Events.Add("send");
            }

            switch (output)
            {
                case SendPacket { To: SendPacket.Multicast } multicast:
                    foreach (Node other in _ring.Nodes.Where(n => n != this))
                    {
                        _ring._wire.Enqueue((Id, other.Id, multicast.Packet));
                    }

                    break;
                case SendPacket unicast:
                    _ring._wire.Enqueue((Id, unicast.To, unicast.Packet));
                    break;
                case SetTimer set:
                    Timers[set.Timer] = (set.DeadlineUs, set.Generation);
                    break;
                case CancelTimer cancel:
                    Timers.Remove(cancel.Timer);
                    break;
            }
        }
    }

    /// <summary>A data message of <paramref name="size"/> body bytes filled with <paramref name="fill"/>.</summary>
    public static GroupMessage Data(string sender, int size, byte fill, ServiceType service = ServiceType.Agreed)
    {
        byte[] body = new byte[size];
        body.AsSpan().Fill(fill);
        byte[] frame = FrameWriter.Build(service, sender, ["g"], MessageHeader.EncodeHint(1), body);
        return GroupMessage.Data(sender, ["g"], service, frame);
    }
}
