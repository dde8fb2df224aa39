using System.Collections.Concurrent;
using Conclave.Protocol.Groups;
using Conclave.Protocol.Ordering;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Internal;

/// <summary>
/// The daemon's serialised core: the only code that touches the group table and the ordering layer.
/// Session readers enter it one at a time, on their own threads, so a message reaches its
/// recipients' queues without a thread hop; inside, nothing waits on a socket (frames are only
/// queued), so the gate is held for microseconds.
/// </summary>
internal sealed class DaemonLoop : IOrderingListener, IGroupTableOutput
{
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, ClientSession> _sessions;
    private readonly DaemonOptions _options;
    private readonly DaemonCounters _counters;
    private readonly Microsoft.Extensions.Logging.ILogger _logger;
    private readonly GroupTable _table;
    private readonly IOrderingLayer _ordering;
    private readonly List<ClientSession> _toFlush = [];

    public DaemonLoop(DaemonOptions options, DaemonCounters counters, Microsoft.Extensions.Logging.ILogger logger, ConcurrentDictionary<string, ClientSession> sessionsByPrivateName, MembershipId initialConfiguration, Func<IOrderingListener, IOrderingLayer> orderingFactory)
    {
        _options = options;
        _counters = counters;
        _logger = logger;
        _sessions = sessionsByPrivateName;
        IReadOnlyList<string> order = options.ConfigurationOrder.Count > 0 ? options.ConfigurationOrder : [options.Name];
        _table = new GroupTable(options.Name, order, initialConfiguration);
        _ordering = orderingFactory(this);
    }

    /// <summary>Counts configuration changes and membership messages; set once by the daemon.</summary>
    public Diagnostics.DaemonMetrics? Metrics { get; init; }

    public int GroupCount => Volatile.Read(ref _groupCount);

    private int _groupCount;

    /// <summary>Every group and its members, sorted by group name (serialised with the loop).</summary>
    public IReadOnlyList<DaemonGroupStatus> Groups()
    {
        lock (_gate)
        {
            return [.. _table.GroupNames.Order(StringComparer.Ordinal).Select(g => new DaemonGroupStatus(g, [.. _table.MembersOf(g)]))];
        }
    }

    /// <summary>What the group table dropped: in all, client requests during a state exchange, and the last of those (serialised with the loop).</summary>
    public (long Dropped, long DuringExchange, string? LastDuringExchange) TableDrops()
    {
        lock (_gate)
        {
            return (_table.DroppedMessages, _table.RequestsDuringExchange, _table.LastRequestDuringExchange);
        }
    }

    /// <summary>Groups and memberships over all groups (serialised with the loop).</summary>
    public (int Groups, int Members) GroupTotals()
    {
        lock (_gate)
        {
            int members = 0;
            foreach (string group in _table.GroupNames)
            {
                members += _table.MembersOf(group).Count;
            }

            return (_table.GroupCount, members);
        }
    }

    /// <summary>Handles one item now, serialised with every other.</summary>
    public void Post(LoopItem item)
    {
        FlushList flush;
        lock (_gate)
        {
            Handle(item);
            _groupCount = _table.GroupCount;
            flush = TakeSessionsToFlush();
        }

        flush.FlushAll();
    }

    /// <summary>Runs ring work (a packet, a timer, a status read) serialised with every other item.</summary>
    public void Run<TState>(TState state, Action<TState> action)
    {
        FlushList flush;
        lock (_gate)
        {
            action(state);
            _groupCount = _table.GroupCount;
            flush = TakeSessionsToFlush();
        }

        flush.FlushAll();
    }

    /// <summary>Queues a frame for a session and remembers to write it once the current item is done.</summary>
    private void Send(ClientSession session, ReadOnlyMemory<byte> frame)
    {
        if (session.Enqueue(frame) && !session.FlushPending)
        {
            session.FlushPending = true;
            _toFlush.Add(session);
        }
    }

    // Writes happen after the gate is released, so the loop is never held up by a socket.
    private FlushList TakeSessionsToFlush()
    {
        if (_toFlush.Count == 0)
        {
            return default;
        }

        ClientSession[] sessions = System.Buffers.ArrayPool<ClientSession>.Shared.Rent(_toFlush.Count);
        for (int i = 0; i < _toFlush.Count; i++)
        {
            sessions[i] = _toFlush[i];
            sessions[i].FlushPending = false;
        }

        var list = new FlushList(sessions, _toFlush.Count);
        _toFlush.Clear();
        return list;
    }

    private readonly struct FlushList(ClientSession[]? sessions, int count)
    {
        public void FlushAll()
        {
            if (sessions is null)
            {
                return;
            }

            for (int i = 0; i < count; i++)
            {
                sessions[i].Flush();
            }

            Array.Clear(sessions, 0, count);
            System.Buffers.ArrayPool<ClientSession>.Shared.Return(sessions);
        }
    }

    private void Handle(LoopItem item)
    {
        ClientSession session = item.Session;
        if (!item.IsSessionEnd)
        {
            Interlocked.Increment(ref _counters.FramesIn);
        }

        if (session.KillSubmitted)
        {
            return; // Anything after the ordered disconnect belongs to no one.
        }

        if (item.IsSessionEnd || (item.RequestType & ServiceType.KillRequest) != 0)
        {
            session.KillSubmitted = true;
            _sessions.TryRemove(new KeyValuePair<string, ClientSession>(session.PrivateGroupName, session));
            _ordering.Submit(GroupMessage.Kill(session.PrivateGroupName));
            DaemonLog.SessionClosed(_logger, session.PrivateGroupName);
            return;
        }

        GroupMessage message = item.Message!;
        if (message.Kind is GroupMessageKind.Join or GroupMessageKind.Leave && RejectReason(message) is { } reason)
        {
            Reject(session, item, reason);
            return;
        }

        _ordering.Submit(message);
    }

    /// <summary>Why a join or leave is refused, or null. Refusals come back as reject messages (§3.7).</summary>
    private string? RejectReason(GroupMessage message)
    {
        string group = message.Groups[0];
        if (!NameField.IsLegalGroupName(group))
        {
            return "illegal group name";
        }

        if (message.Kind == GroupMessageKind.Join)
        {
            int local = 0;
            foreach (string member in _table.MembersOf(group))
            {
                if (member.EndsWith("#" + _options.Name, StringComparison.Ordinal))
                {
                    local++;
                }
            }

            if (local >= _options.MaxLocalGroupMembers)
            {
                return $"the group has {local} members at this daemon, the limit";
            }
        }

        return null;
    }

    private void Reject(ClientSession session, LoopItem item, string reason)
    {
        ServiceType original = item.RequestType;
        ServiceType cause = (original & ServiceType.JoinRequest) != 0 ? ServiceType.CausedByJoin : ServiceType.CausedByLeave;
        ServiceType rejectType = ServiceType.Reject | cause | (original & ServiceType.SelfDiscard);
        byte[] frame = item.Frame!;
        int bodyAt = MessageHeader.Size + (item.Message!.Groups.Count * SpreadLimits.GroupNameSize);
        uint hint = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(40));
        byte[] reject = FrameWriter.BuildReject(rejectType, original, session.PrivateGroupName, item.Message.Groups, hint, frame.AsSpan(bodyAt));
        Interlocked.Increment(ref _counters.Rejects);
        DaemonLog.RequestRejected(_logger, session.PrivateGroupName, cause == ServiceType.CausedByJoin ? "join" : "leave", item.Message.Groups[0], reason);
        Send(session, reject);
    }

    // ---- ordering listener: the ordered stream drives the group table ----

    public void OnDeliver(GroupMessage message) => _table.Deliver(message, this);

    public void OnTransitional(IReadOnlyList<string> daemons, MembershipId id)
    {
        DaemonLog.Configuration(_logger, "transitional", id.ToString(), string.Join(", ", daemons));
        Metrics?.ConfigurationInstalled(regular: false);
        _table.OnTransitional(daemons, id, this);
    }

    public void OnRegular(IReadOnlyList<string> daemons, MembershipId id)
    {
        DaemonLog.Configuration(_logger, "regular", id.ToString(), string.Join(", ", daemons));
        Metrics?.ConfigurationInstalled(regular: true);
        _table.OnRegular(daemons, id, this);
    }

    /// <summary>Writes the frames queued so far, still inside the core: the ring layer is about to send packets.</summary>
    public void WriteDeliveries() => TakeSessionsToFlush().FlushAll();

    /// <summary>The ring layer holds client requests while the table runs a state exchange (J6).</summary>
    public bool HoldsClientRequests => _table.IsExchanging;

    // ---- group table output: frames to local sessions ----

    public void DeliverData(string mailbox, GroupMessage message)
    {
        // Accepted, not only established: a unicast sent the moment the addressee's client got its accept was
        // dropped when the addressee's session had not yet marked itself established (seen on a loaded machine).
        if (_sessions.TryGetValue(mailbox, out ClientSession? session) && session.IsAccepted)
        {
            Send(session, message.Frame);
        }
        else
        {
            Interlocked.Increment(ref _counters.DataForGoneSessions);
        }
    }

    public void DeliverMembership(string mailbox, ReadOnlyMemory<byte> frame)
    {
        if (_sessions.TryGetValue(mailbox, out ClientSession? session) && session.IsEstablished && session.WantsMembership)
        {
            Send(session, frame);
            Metrics?.MembershipMessageQueued();
        }
    }

    public void SubmitGroupsState(GroupsStateMessage state) => _ordering.Submit(GroupMessage.GroupsState(_options.Name, state));
}
