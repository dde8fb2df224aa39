using Conclave.Protocol.Groups;
using Conclave.Protocol.Ordering;
using Conclave.Protocol.Ring;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Ring;

/// <summary>
/// The ordering layer across daemons: group messages travel as ring payloads (fragmented above the
/// ring when large) and come back, with the ring's configurations, in one total order. Sans-IO like
/// the ring itself: the host feeds packets and timer firings and carries out the other outputs
/// (packets, timers, persistence, traces). Not thread-safe: the daemon's serialised core calls it.
/// </summary>
/// <remarks>
/// Flow: the ring takes payloads at token time, small messages (packed) before fragments, so a large
/// message never starves small ones. A session's messages stay in order: once it has a large message
/// pending, its later messages wait until that message's last fragment is on the ring.
/// </remarks>
internal sealed partial class RingOrderingLayer : IOrderingLayer
{
    private readonly RingMachine _ring;
    private readonly RingNodes _nodes;
    private readonly IOrderingListener _listener;
    private readonly RingLayerSettings _settings;
    private readonly Func<long> _clock;
    private readonly Action<RingOutput> _host;
    private readonly Reassembler _reassembler;
    private readonly List<RingOutput> _batch = [];
    private readonly List<ReadOnlyMemory<byte>> _unpacked = [];
    private bool _pumping;

    public RingOrderingLayer(RingMachine ring, RingNodes nodes, IOrderingListener listener, RingLayerSettings settings, Func<long> clockUs, Action<RingOutput> host)
    {
        _ring = ring;
        _nodes = nodes;
        _listener = listener;
        _settings = settings;
        _clock = clockUs;
        _host = host;
        _reassembler = new Reassembler(settings.MaxMessageBytes + 1024);
        ring.SendSource = this;
        if (settings.FragmentSize < 64)
        {
            throw new ArgumentException("The fragment size must be at least 64 bytes.", nameof(settings));
        }
    }

    public RingMachine Ring => _ring;

    public RingNodes Nodes => _nodes;

    /// <summary>Messages handed to the group layer.</summary>
    public long Delivered { get; private set; }

    /// <summary>Ring payloads that did not decode (dropped).</summary>
    public long Undecodable { get; private set; }

    /// <summary>Fragments dropped by reassembly.</summary>
    public long FragmentsDropped => _reassembler.Dropped;

    /// <summary>Fragmented messages being reassembled.</summary>
    public int PartialMessages => _reassembler.InProgress;

    /// <summary>Starts the ring from the persisted ring sequence and incarnation.</summary>
    public void Boot(ulong persistedRingSeq, ulong persistedIncarnation)
    {
        _ring.Boot(persistedRingSeq, persistedIncarnation, _clock());
        Pump();
    }

    /// <summary>An authenticated packet from another daemon.</summary>
    public void OnPacket(ReadOnlySpan<byte> packet)
    {
        _ring.OnPacket(packet, _clock());
        Pump();
    }

    /// <summary>A timer the ring asked for has fired.</summary>
    public void OnTimer(RingTimer timer, ulong generation)
    {
        _ring.OnTimer(timer, generation, _clock());
        Pump();
    }

    /// <summary>Graceful leave (daemon shutdown).</summary>
    public void Leave()
    {
        _ring.Leave(_clock());
        Pump();
    }

    /// <summary>Takes the ring's outputs until none is left: deliveries here, the rest to the host.</summary>
    private void Pump()
    {
        if (_pumping)
        {
            return; // A delivery submitted something: the outer loop feeds it.
        }

        _pumping = true;
        try
        {
            while (true)
            {
                FeedSelf();
                _ring.TakeOutputs(_batch);
                if (_batch.Count == 0)
                {
                    return;
                }

                RingOutput[] outputs = [.. _batch];
                _batch.Clear();
                bool deliveredFirst = DeliverBeforeSends(outputs);
                foreach (RingOutput output in outputs)
                {
                    if (output is Deliver deliver)
                    {
                        if (!deliveredFirst)
                        {
                            OnDelivery(deliver.Delivery);
                        }
                    }
                    else if (output is SendPacket send)
                    {
                        Send(send);
                    }
                    else
                    {
                        _host(output);
                    }
                }
            }
        }
        finally
        {
            _pumping = false;
        }
    }

    /// <summary>
    /// A sender's own messages are ordered and deliverable before their packets leave (the ring keeps its copies
    /// for retransmission), so its clients get them before the sends rather than after: on the round trip to
    /// self the client's turn-around then overlaps the daemon's sends. Only for a batch of message deliveries
    /// and packets; configurations and persistence keep their place. Returns true if it delivered them.
    /// </summary>
    private bool DeliverBeforeSends(RingOutput[] outputs)
    {
        bool sends = false;
        bool deliveries = false;
        foreach (RingOutput output in outputs)
        {
            switch (output)
            {
                case Deliver { Delivery: RingMessage }:
                    deliveries = true;
                    break;
                case Conclave.Protocol.Ring.Deliver or Persist:
                    return false;
                case SendPacket send when send.To != _ring.MyId:
                    sends = true;
                    break;
            }
        }

        if (!sends || !deliveries)
        {
            return false;
        }

        foreach (RingOutput output in outputs)
        {
            if (output is Deliver deliver)
            {
                OnDelivery(deliver.Delivery);
            }
        }

        _listener.WriteDeliveries();
        return true;
    }

    private void OnDelivery(RingDelivery delivery)
    {
        bool held = _listener.HoldsClientRequests;
        Dispatch(delivery);
        if (held && !_listener.HoldsClientRequests && Backlog > 0)
        {
            _ring.OnSendable(_clock()); // The exchange is over: the held requests may go now.
        }
    }

    private void Dispatch(RingDelivery delivery)
    {
        switch (delivery)
        {
            case RingMessage message:
                OnMessage(message);
                break;
            case RingConfiguration { Id.Kind: ConfKind.Transitional } trans:
                _listener.OnTransitional(_nodes.NamesOf(trans.Members), _nodes.IdOf(trans.Id));
                break;
            case RingConfiguration reg:
                _reassembler.DropPartials();
                RestartInterrupted();
                _listener.OnRegular(_nodes.NamesOf(reg.Members), _nodes.IdOf(reg.Id));
                break;
        }
    }

    private void OnMessage(RingMessage message)
    {
        byte[] payload = message.Payload;
        if (payload.Length == 0)
        {
            Undecodable++;
            return;
        }

        ReadOnlyMemory<byte> encoded;
        if (payload[0] == Fragment.WholeKind)
        {
            encoded = payload.AsMemory(1);
        }
        else if (payload[0] == Bundle.Kind)
        {
            DeliverBundle(payload);
            return;
        }
        else
        {
            if (message.Id.Node == _ring.MyId && message.Id.Incarnation == _ring.Incarnation)
            {
                OwnFragmentDelivered(payload);
            }

            if (_reassembler.Add(message.Id, payload) is not { } whole)
            {
                return;
            }

            encoded = whole;
        }

        Deliver(encoded);
    }

    private void DeliverBundle(byte[] payload)
    {
        _unpacked.Clear();
        if (!Bundle.TryUnpack(payload, _unpacked))
        {
            Undecodable++;
            return;
        }

        foreach (ReadOnlyMemory<byte> encoded in _unpacked)
        {
            Deliver(encoded);
        }

        _unpacked.Clear();
    }

    private void Deliver(ReadOnlyMemory<byte> encoded)
    {
        if (!GroupMessageCodec.TryDecode(encoded, out GroupMessage? decoded))
        {
            Undecodable++;
            return;
        }

        Delivered++;
        _listener.OnDeliver(decoded!);
    }

    private static RingService ServiceOf(GroupMessage message) =>
        message.Kind == GroupMessageKind.Data && (message.Service & ServiceType.Safe) != 0 ? RingService.Safe : RingService.Agreed;
}

/// <summary>How the ring ordering layer cuts and paces messages.</summary>
/// <param name="FragmentSize">Largest chunk of a message per ring payload.</param>
/// <param name="MaxMessageBytes">Largest encoded message reassembled.</param>
internal sealed record RingLayerSettings(int FragmentSize = 8_000, int MaxMessageBytes = 16 * 1024 * 1024);
