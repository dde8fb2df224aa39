using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Conclave.Daemon.Internal;
using Conclave.Daemon.Network;
using Conclave.Protocol.Ordering;
using Conclave.Protocol.Ring;
using Conclave.Protocol.Tracing;
using Microsoft.Extensions.Logging;

namespace Conclave.Daemon.Ring;

/// <summary>
/// Runs the ring ordering layer over UDP: one socket on this daemon's endpoint, "multicast" as
/// unicast to every other configured daemon (packets to itself never leave the ring layer), every packet sealed and opened by a
/// <see cref="LinkSealer"/>, timers on a monotonic clock, and the ring state persisted. Every ring
/// input enters the daemon's serialised core, so the ring and the group table are never touched
/// concurrently.
/// </summary>
internal sealed partial class UdpRingHost : IAsyncDisposable
{
    private readonly DaemonOptions _options;
    private readonly DaemonRingOptions _ring;
    private readonly ILogger _logger;
    private readonly uint _self;
    private readonly IPEndPoint[] _endpoints;
    private readonly SocketAddress[] _addresses;
    // Packets are sealed into this one buffer and sent at once: every send happens inside the core, one at a time.
    private readonly byte[] _sendBuffer = new byte[MaxDatagram];
    // A packet longer than one segment is written here as a split frame (LinkFrames), for one GSO send per peer.
    private readonly byte[] _splitBuffer = new byte[MaxDatagram];
    private readonly LinkFrameJoiner _joiner;
    private readonly RingStateFile _state;
    private readonly RingTimers _timers;
    private readonly Socket _socket;
    private readonly ulong _persistedSeq;
    private readonly ulong _bootIncarnation;
    private DaemonLoop? _loop;
    private RingOrderingLayer? _layer;
    private Task _receiver = Task.CompletedTask;
    private long _packetsSent;
    private long _packetsReceived;
    private long _sendErrors;
    private long _strangers;
    private int _segment; // LinkSegmentSize once the socket accepted UDP_SEGMENT; 0: packets leave whole
    private uint _frameId;
    private long _splitSent;
    private bool _stopped;
    private StreamWriter? _trace;

    public UdpRingHost(DaemonOptions options, ILogger logger)
    {
        _options = options;
        _ring = options.Ring!;
        _logger = logger;
        _self = (uint)(options.ConfigurationOrder.ToList().IndexOf(options.Name) + 1);
        _endpoints = [.. _ring.Endpoints];
        _addresses = [.. _endpoints.Select(e => e.Serialize())];
        Directory.CreateDirectory(_ring.StateDirectory);
        _state = new RingStateFile(Path.Combine(_ring.StateDirectory, $"ring-{options.Name}.state"));
        (_persistedSeq, ulong incarnation) = _state.Load();
        // A lost state file must not reuse an incarnation: peers' replay windows would refuse it.
        _bootIncarnation = Math.Max(incarnation, (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Sealer = new LinkSealer(_ring.Plaintext ? null : _ring.Key, _self, _bootIncarnation + 1);
        _timers = new RingTimers(Clock, Fired);
        _socket = new Socket(_endpoints[_self - 1].AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _joiner = new LinkFrameJoiner(_endpoints.Length);
    }

    public LinkSealer Sealer { get; }

    public uint NodeId => _self;

    /// <summary>The ring machine once the layer exists (its counters are read by the metrics).</summary>
    public RingMachine? Machine => _layer?.Ring;

    /// <summary>The ordering factory handed to the daemon loop.</summary>
    public IOrderingLayer CreateLayer(IOrderingListener listener)
    {
        var nodes = new RingNodes(_options.ConfigurationOrder, [.. _endpoints.Select(e => e.Address)]);
        // Per-message trace events cost a payload hash each: only when a trace is being recorded.
        RingOptions ringOptions = _ring.Timers with { TraceMessages = _ring.TracePath is not null };
        _layer = new RingOrderingLayer(new RingMachine(_self, ringOptions), nodes, listener,
            new RingLayerSettings(FragmentSize: _ring.FragmentSize), Clock, Handle);
        return _layer;
    }

    /// <summary>Binds the socket, boots the ring inside the core and starts receiving.</summary>
    public void Start(DaemonLoop loop)
    {
        _loop = loop;
        _socket.ReceiveBufferSize = 4 << 20;
        _socket.SendBufferSize = 4 << 20;
        _socket.Bind(_endpoints[_self - 1]);
        EnableSegmentation();
        StartMulticast();
        if (_ring.TracePath is { } tracePath)
        {
            _trace = new StreamWriter(new FileStream(tracePath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        }

        RingOptions t = _ring.Timers;
        DaemonLog.RingStarting(_logger, _options.Name, _self, _socket.LocalEndPoint!.ToString()!, _endpoints.Length - 1, Sealer.IsSealed ? "AES-256-GCM" : "PLAINTEXT");
        DaemonLog.RingTimers(_logger, t.TokenTimeoutUs / 1000, t.TokenRetransmitTimeoutUs / 1000, t.JoinTimeoutUs / 1000, t.ConsensusTimeoutUs / 1000, t.MergeTimeoutUs / 1000, t.EffectiveTokenHoldUs, t.SeqUnchangedConst, t.WindowSize, t.MaxMessages, _ring.FragmentSize);
        loop.Run(this, static host =>
        {
            host._layer!.Boot(host._persistedSeq, host._bootIncarnation);
        });
        // A thread of its own blocked in recv: a packet wakes it directly, where an async receive would
        // wake the socket engine's thread and then a pool thread — two wake-ups on every token hop.
        _receiver = Task.Factory.StartNew(ReceiveLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The largest UDP datagram: every ring packet, sealed, fits (FragmentSize is bounded below it).</summary>
    private const int MaxDatagram = 65_536;

    private static long Clock() => Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000);

    private void Fired(RingTimer timer) => _loop?.Run((this, timer), static s =>
    {
        if (!s.Item1._stopped && s.Item1._timers.Due(s.timer) is { } generation)
        {
            s.Item1._layer!.OnTimer(s.timer, generation);
        }
    });

    private void ReceiveLoop() => ReceiveLoop(_socket, _joiner, "ring-receive", fromGroup: false);

    /// <summary>
    /// Receives from <paramref name="socket"/> until it is closed, opening each datagram and feeding it to the
    /// core. <paramref name="fromGroup"/>: the segment's multicast group, where this daemon's own
    /// broadcasts come back when another daemon of the segment shares its host.
    /// </summary>
    private void ReceiveLoop(Socket socket, LinkFrameJoiner joiner, string threadName, bool fromGroup)
    {
        Thread.CurrentThread.Name = threadName;
        byte[] buffer = new byte[MaxDatagram];
        byte[] plain = new byte[MaxDatagram]; // opened packets are decrypted here: the ring copies what it keeps
        while (true)
        {
            int received;
            try
            {
                // The sender's address is not needed: the sealer authenticates the sending daemon.
                received = socket.Receive(buffer, SocketFlags.None);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException) when (!_stopped)
            {
                continue; // E.g. an ICMP error from a peer that is down.
            }
            catch (SocketException)
            {
                return;
            }

            Interlocked.Increment(ref _packetsReceived);
            if (!LinkFrameJoiner.IsSplit(buffer.AsSpan(0, received)))
            {
                Accept(buffer, received, plain, fromGroup);
                continue;
            }

            // Chunks of split frames, one or (UDP GRO) several back to back; each says its length.
            for (int at = 0; at < received;)
            {
                int used = joiner.Take(buffer.AsSpan(at, received - at), out byte[]? packet, out int length);
                if (used == 0)
                {
                    break; // Malformed: counted, the rest dropped.
                }

                at += used;
                if (packet is not null)
                {
                    Accept(packet, length, plain, fromGroup);
                }
            }
        }
    }

    /// <summary>Opens one link packet and hands its payload to the core (which copies what it keeps).</summary>
    private void Accept(byte[] packet, int length, byte[] plain, bool fromGroup)
    {
        if (!Sealer.TryOpen(packet, length, plain, out uint sender, out ArraySegment<byte> payload))
        {
            return; // Counted by the sealer.
        }

        if (fromGroup && sender == _self)
        {
            return; // This daemon's own copy, looped back by the group.
        }

        if (sender == 0 || sender > _endpoints.Length || sender == _self)
        {
            Interlocked.Increment(ref _strangers);
            return;
        }

        _loop!.Run((this, payload), static s =>
        {
            if (!s.Item1._stopped)
            {
                s.Item1._layer!.OnPacket(s.payload.AsSpan());
            }
        });
    }

    /// <summary>Carries out one ring output (inside the core).</summary>
    private void Handle(RingOutput output)
    {
        switch (output)
        {
            case SendPacket { To: SendPacket.Multicast } multicast:
                int sealedLength = Sealer.Seal(multicast.Packet, _sendBuffer);
                SendToGroup(_sendBuffer.AsSpan(0, sealedLength));
                int frameLength = -1; // split once, on the first unicast
                for (int i = 0; i < _endpoints.Length; i++)
                {
                    if (i + 1 != _self && !ReachedByMulticast((uint)i + 1))
                    {
                        frameLength = frameLength < 0 ? Frame(sealedLength) : frameLength;
                        Send(sealedLength, frameLength, i);
                    }
                }

                break;
            case SendPacket unicast when unicast.To >= 1 && unicast.To <= _endpoints.Length:
                int length = Sealer.Seal(unicast.Packet, _sendBuffer);
                Send(length, Frame(length), (int)unicast.To - 1);
                break;
            case SetTimer set:
                _timers.Set(set);
                break;
            case CancelTimer cancel:
                _timers.Cancel(cancel.Timer);
                break;
            case Conclave.Protocol.Ring.Trace trace when _trace is not null:
                _trace.WriteLine(TraceJson.Format(trace.Event));
                break;
            case Persist persist:
                _state.Save(persist.RingSeq, persist.Incarnation);
                break;
        }
    }

    /// <summary>
    /// Writes the sealed packet in <see cref="_sendBuffer"/> as a split frame into <see cref="_splitBuffer"/>
    /// and returns the frame's length, or 0 when it leaves whole (segmentation off, or short enough).
    /// </summary>
    private int Frame(int sealedLength)
    {
        if (_segment == 0 || !LinkFrames.Fits(sealedLength, _segment))
        {
            return 0;
        }

        return LinkFrames.Split(_sendBuffer.AsSpan(0, sealedLength), _self, ++_frameId, _segment, _splitBuffer);
    }

    /// <summary>
    /// Sends the sealed packet to daemon number <paramref name="index"/> + 1: as its split frame when
    /// <paramref name="frameLength"/> is not 0 (one GSO send), else whole. A kernel that refuses the
    /// segmented send turns segmentation off for good (logged) and the packet leaves whole.
    /// </summary>
    private void Send(int sealedLength, int frameLength, int index)
    {
        if (frameLength != 0 && _segment != 0)
        {
            try
            {
                _socket.SendTo(_splitBuffer.AsSpan(0, frameLength), SocketFlags.None, _addresses[index]);
                _packetsSent++;
                _splitSent++;
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.InvalidArgument or SocketError.MessageSize or SocketError.SocketError or SocketError.OperationNotSupported)
            {
                DisableSegmentation($"a segmented send to {_endpoints[index]} failed: {ex.SocketErrorCode} ({ex.Message})");
            }
            catch (SocketException ex)
            {
                if (_sendErrors++ % 1000 == 0)
                {
                    DaemonLog.SendFailed(_logger, _endpoints[index].ToString(), ex.SocketErrorCode.ToString());
                }

                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }

        if (_segment != 0 && sealedLength > _segment)
        {
            // Too long for one frame (more than 64 chunks): the socket would cut it without chunk headers.
            SendUnsegmented(_sendBuffer.AsSpan(0, sealedLength), index);
            return;
        }

        Send(_sendBuffer.AsSpan(0, sealedLength), index);
    }

    /// <summary>Sends to daemon number <paramref name="index"/> + 1 (a serialised address: no allocation per send).</summary>
    private void Send(ReadOnlySpan<byte> packet, int index)
    {
        try
        {
            _socket.SendTo(packet, SocketFlags.None, _addresses[index]);
            _packetsSent++;
        }
        catch (SocketException ex)
        {
            if (_sendErrors++ % 1000 == 0)
            {
                DaemonLog.SendFailed(_logger, _endpoints[index].ToString(), ex.SocketErrorCode.ToString());
            }
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>A snapshot of the ring and link state (inside the core).</summary>
    public DaemonRingStatus Status()
    {
        DaemonRingStatus status = null!;
        _loop!.Run(this, host => status = host.Snapshot());
        return status;
    }

    private DaemonRingStatus Snapshot()
    {
        RingMachine ring = _layer!.Ring;
        LinkCounters link = Sealer.Counters;
        return new DaemonRingStatus
        {
            NodeId = _self,
            RingId = ring.MyRingId.ToString(),
            State = ring.State.ToString(),
            Members = [.. ring.Members.Select(_layer.Nodes.NameOf)],
            Sealed = Sealer.IsSealed,
            PacketsSent = _packetsSent,
            PacketsReceived = Interlocked.Read(ref _packetsReceived),
            Retransmitted = ring.Counters.Retransmitted,
            TokenRetransmits = ring.Counters.TokenRetransmits,
            TokenVisits = _layer.TokenVisits,
            TokenHolds = ring.Counters.TokenHolds,
            TokenKeeps = ring.Counters.TokenKeeps,
            TokenHoldCancels = ring.Counters.TokenHoldCancels,
            MalformedRingPackets = ring.Counters.Malformed,
            DroppedMalformed = Interlocked.Read(ref link.Malformed) + _joiner.Malformed + (_groupJoiner?.Malformed ?? 0),
            DroppedOtherCluster = Interlocked.Read(ref link.OtherCluster),
            DroppedForged = Interlocked.Read(ref link.Forged),
            DroppedReplayed = Interlocked.Read(ref link.Replayed),
            DroppedUnsealed = Interlocked.Read(ref link.Unsealed),
            DroppedStrangers = Interlocked.Read(ref _strangers),
            SplitFramesSent = _splitSent,
            SplitFramesJoined = _joiner.Joined + (_groupJoiner?.Joined ?? 0),
            SplitFramesIncomplete = _joiner.Incomplete + (_groupJoiner?.Incomplete ?? 0),
            MessagesDelivered = _layer.Delivered,
            FragmentsDropped = _layer.FragmentsDropped,
            Backlog = _layer.Backlog + ring.PendingSends,
        };
    }

    /// <summary>Leaves the ring gracefully and closes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_loop is not null)
        {
            _loop.Run(this, static host =>
            {
                if (!host._stopped)
                {
                    host._layer!.Leave();
                    host._stopped = true;
                }
            });
        }

        _stopped = true;
        _timers.Dispose();
        _socket.Dispose();
        await StopMulticastAsync();
        await _receiver.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Sealer.Dispose();
        if (_trace is not null)
        {
            await _trace.DisposeAsync();
        }
    }
}
