using Conclave.Protocol.Ring.States;
using Conclave.Protocol.Ring.Wire;
using Conclave.Protocol.Tracing;

namespace Conclave.Protocol.Ring;

/// <summary>State of the ring protocol (ring-protocol.md §3).</summary>
public enum RingState
{
    /// <summary>Ordering messages on an installed ring.</summary>
    Operational,
    /// <summary>Collecting Joins to agree on a new membership.</summary>
    Gather,
    /// <summary>Circulating the commit token.</summary>
    Commit,
    /// <summary>Recovering old-ring messages on the new ring.</summary>
    Recovery,
}

/// <summary>
/// The sans-IO Totem ring core of one daemon incarnation (ring-protocol.md §1–§3). Inputs are
/// <see cref="Boot"/>, <see cref="OnPacket"/>, <see cref="OnTimer"/> and <see cref="Submit"/>, each
/// with the current time; the effects they cause are queued as <see cref="RingOutput"/>s that the
/// host takes with <see cref="TakeOutputs"/>. The core owns no socket, thread, clock or randomness.
/// </summary>
/// <remarks>
/// One class per protocol state handles events (<c>States/</c>); the machine owns the shared data,
/// the transitions (<c>RingMachine.Membership.cs</c>, <c>RingMachine.Recovery.cs</c>), the token
/// rules (<c>RingMachine.Token.cs</c>) and delivery (<c>RingMachine.Delivery.cs</c>).
/// </remarks>
public sealed partial class RingMachine
{
    private readonly RingOptions _options;
    private readonly List<RingOutput> _outbox = [];
    private readonly ulong[] _timerGeneration = new ulong[RingTimerCount];
    private readonly bool[] _timerArmed = new bool[RingTimerCount];
    private readonly OperationalState _operational;
    private readonly GatherState _gather;
    private readonly CommitState _commit;
    private readonly RecoveryState _recovery;
    private OrfToken _tokenScratch = new(); // every received token is parsed into it: only a held token is kept (then replaced)
    private IRingState _state;
    private long _now;
    private ulong _sendCounter;

    /// <summary>Creates the core for node <paramref name="nodeId"/>; call <see cref="Boot"/> next.</summary>
    public RingMachine(uint nodeId, RingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (nodeId == 0) throw new ArgumentOutOfRangeException(nameof(nodeId), "Node ids are non-zero.");
        options.Validate();
        _options = options;
        MyId = nodeId;
        _operational = new OperationalState(this);
        _gather = new GatherState(this);
        _commit = new CommitState(this);
        _recovery = new RecoveryState(this);
        _state = _gather;
    }

    /// <summary>This node's id.</summary>
    public uint MyId { get; }

    /// <summary>This boot's incarnation (persisted incarnation + 1).</summary>
    public ulong Incarnation { get; private set; }

    /// <summary>Current protocol state.</summary>
    public RingState State => _state.Kind;

    /// <summary>The ring id in use (in COMMIT and RECOVERY, the ring being formed).</summary>
    public RingId MyRingId { get; private set; }

    /// <summary>Members of the last installed regular configuration.</summary>
    public IReadOnlyList<uint> Members => MyMemb;

    /// <summary>Client messages waiting to be sequenced.</summary>
    public int PendingSends => _newMessages.Count;

    /// <summary>Where the ring takes messages at token time once its own queue is empty (null: none).</summary>
    public IRingSendSource? SendSource { get; set; }

    /// <summary>The layer above has messages in its <see cref="SendSource"/>: release or ask for the token.</summary>
    public void OnSendable(long nowUs)
    {
        _now = nowUs;
        OnLocalSubmit();
    }

    private int NewBacklog => _newMessages.Count + (SendSource?.Backlog ?? 0);

    private bool TryTakeFromSource(out PendingSend pending)
    {
        pending = default;
        if (SendSource is null || !SendSource.TryTake(out byte[] payload, out RingService service)) return false;
        if (!CanCarry(payload.Length, service))
        {
            throw new InvalidOperationException($"The send source gave a {payload.Length}-byte {service} payload the ring cannot carry.");
        }
        pending = NewPending(payload, service);
        return true;
    }

    private bool CanCarry(int length, RingService service) =>
        length <= _options.MaxPayload && service is >= RingService.Reliable and <= RingService.Safe;

    /// <summary>Gives a message its id (and its Send trace event) at the moment it is handed to the ring.</summary>
    private PendingSend NewPending(byte[] payload, RingService service)
    {
        var id = new MessageId(MyId, Incarnation, ++_sendCounter);
        if (_options.TraceMessages) TraceOut(new TraceEvent(TraceKind.Send, _now, MyId, Incarnation) { Message = id, Service = service, PayloadHash = TraceEvent.Hash(payload) });
        return new PendingSend(id, service, payload);
    }

    /// <summary>Counters for diagnosis (malformed packets, retransmissions, ...).</summary>
    public RingCounters Counters { get; } = new();

    /// <summary>Token rotations and the flow control of the last token (for metrics).</summary>
    public RingFlowCounters Flow { get; } = new();

    internal RingOptions Options => _options;

    internal long Now => _now;

    /// <summary>
    /// Boots this incarnation from the persisted ring sequence and incarnation (both 0 on a first
    /// boot): installs the singleton regular configuration and starts looking for peers.
    /// </summary>
    public void Boot(ulong persistedRingSeq, ulong persistedIncarnation, long nowUs)
    {
        _now = nowUs;
        Incarnation = persistedIncarnation + 1;
        MyRingId = new RingId(MyId, persistedRingSeq + 4);
        PersistedSeq = MyRingId.Seq;
        HighestSeenRingSeq = MyRingId.Seq;
        _outbox.Add(new Persist(MyRingId.Seq, Incarnation));
        TraceOut(new TraceEvent(TraceKind.Boot, _now, MyId, Incarnation));
        BootSingleton();
    }

    /// <summary>
    /// Queues an application message for sequencing (any state; it is sent in OPERATIONAL).
    /// Returns false, queuing nothing, if the payload is larger than <see cref="RingOptions.MaxPayload"/>.
    /// </summary>
    public bool Submit(ReadOnlySpan<byte> payload, RingService service, long nowUs, out MessageId id)
    {
        _now = nowUs;
        id = default;
        if (!CanCarry(payload.Length, service)) return false;
        PendingSend pending = NewPending(payload.ToArray(), service);
        id = pending.Id;
        _newMessages.Enqueue(pending);
        OnLocalSubmit();
        return true;
    }

    /// <summary>Handles one received packet. Malformed packets are dropped and counted.</summary>
    public void OnPacket(ReadOnlySpan<byte> packet, long nowUs)
    {
        _now = nowUs;
        RingParseError error = RingPacket.TryParse(packet, _tokenScratch, out RingPacket parsed);
        if (error != RingParseError.None)
        {
            Counters.Malformed++;
            return;
        }
        uint sender = parsed.Header.Sender;
        switch (parsed.Body)
        {
            case McastMessage m:
                if (sender != MyId) _state.OnMcast(m, sender);
                break;
            case OrfToken t:
                _state.OnToken(t);
                break;
            case JoinMessage j:
                if (sender != MyId) _state.OnJoin(j);
                break;
            case CommitToken c:
                _state.OnCommitToken(c);
                break;
            case MergeDetectMessage d:
                if (sender != MyId) _state.OnMergeDetect(d);
                break;
            case TokenHoldCancelMessage c:
                if (c.Ring == MyRingId) OnHoldCancel();
                break;
        }
    }

    /// <summary>Handles a timer firing; a firing whose generation is stale is ignored.</summary>
    public void OnTimer(RingTimer timer, ulong generation, long nowUs)
    {
        _now = nowUs;
        int i = (int)timer;
        if (!_timerArmed[i] || _timerGeneration[i] != generation)
        {
            Counters.StaleTimers++;
            return;
        }
        _timerArmed[i] = false;
        if (timer == RingTimer.TokenHold)
        {
            ReleaseHeldToken();
            return;
        }
        _state.OnTimer(timer);
    }

    /// <summary>Graceful leave: multicasts a Join naming this node failed (§3.5). Stop feeding inputs afterwards.</summary>
    public void Leave(long nowUs)
    {
        _now = nowUs;
        var fails = new SortedSet<uint>(FailSet) { MyId };
        Multicast(RingPacket.Format(new JoinMessage(MyId, MyRingId.Seq, true, [.. ProcSet], [.. fails])));
    }

    /// <summary>Moves the queued outputs into <paramref name="into"/> and clears the queue.</summary>
    public void TakeOutputs(List<RingOutput> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        ReleaseIfSubmitted();
        into.AddRange(_outbox);
        _outbox.Clear();
    }

    // ---- helpers used by the states ----

    internal void Transition(RingState next)
    {
        _state = next switch
        {
            RingState.Operational => _operational,
            RingState.Gather => _gather,
            RingState.Commit => _commit,
            _ => _recovery,
        };
    }

    internal void ArmTimer(RingTimer timer, long delayUs)
    {
        int i = (int)timer;
        _timerArmed[i] = true;
        _outbox.Add(new SetTimer(timer, _now + delayUs, ++_timerGeneration[i]));
    }

    internal void Cancel(RingTimer timer)
    {
        int i = (int)timer;
        if (!_timerArmed[i]) return;
        _timerArmed[i] = false;
        ++_timerGeneration[i];
        _outbox.Add(CancelTimers[i]);
    }

    internal void Multicast(byte[] packet) => _outbox.Add(new SendPacket(SendPacket.Multicast, packet));

    internal void Unicast(uint to, byte[] packet) => _outbox.Add(new SendPacket(to, packet));

    internal void TraceOut(TraceEvent e) => _outbox.Add(new Trace(e));

    internal void Emit(RingDelivery d) => _outbox.Add(new Deliver(d));

    private static readonly int RingTimerCount = Enum.GetValues<RingTimer>().Length;

    // Cancels carry nothing but the timer, so one immutable instance per timer serves every call.
    private static readonly CancelTimer[] CancelTimers = [.. Enum.GetValues<RingTimer>().Select(t => new CancelTimer(t))];

    private readonly record struct PendingSend(MessageId Id, RingService Service, byte[] Payload);
}

/// <summary>Diagnostic counters of one ring core.</summary>
public sealed class RingCounters
{
    /// <summary>Packets dropped because they did not parse.</summary>
    public long Malformed { get; internal set; }
    /// <summary>Timer firings ignored because their generation was stale.</summary>
    public long StaleTimers { get; internal set; }
    /// <summary>Messages re-multicast to serve retransmission requests.</summary>
    public long Retransmitted { get; internal set; }
    /// <summary>Retransmission requests served again and left on the token for the next holder (T4: one-way paths).</summary>
    public long RetransmitsPassedOn { get; internal set; }
    /// <summary>Tokens re-sent after the retransmit timeout.</summary>
    public long TokenRetransmits { get; internal set; }
    /// <summary>Duplicate tokens dropped.</summary>
    public long DuplicateTokens { get; internal set; }
    /// <summary>Times the RC8 cross-check (max HighDelivered below the stop point) failed.</summary>
    public long RecoveryCrossCheckFailures { get; internal set; }
    /// <summary>Processors declared failed by fail-to-receive (FR1).</summary>
    public long FailToReceive { get; internal set; }
    /// <summary>Idle token visits the representative held (token hold).</summary>
    public long TokenHolds { get; internal set; }
    /// <summary>Times this member kept the token right after sending (it alone was sending).</summary>
    public long TokenKeeps { get; internal set; }
    /// <summary>TokenHoldCancel messages this member sent to the representative.</summary>
    public long TokenHoldCancels { get; internal set; }
}
