using System.Collections.Concurrent;
using System.Threading.Channels;
using Conclave.Protocol.Groups;
using Conclave.Protocol.Ordering;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Internal;

/// <summary>
/// The daemon's single event loop: the only code that touches the group table and the ordering
/// layer. Sessions post work to it; it hands frames to session queues and never waits on a socket.
/// </summary>
internal sealed class DaemonLoop : IOrderingListener, IGroupTableOutput
{
    private readonly Channel<LoopItem> _work = Channel.CreateBounded<LoopItem>(
        new BoundedChannelOptions(16_384) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly ConcurrentDictionary<string, ClientSession> _sessions;
    private readonly DaemonOptions _options;
    private readonly DaemonCounters _counters;
    private readonly Microsoft.Extensions.Logging.ILogger _logger;
    private readonly GroupTable _table;
    private readonly IOrderingLayer _ordering;

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

    public int GroupCount => Volatile.Read(ref _groupCount);

    private int _groupCount;

    public ValueTask PostAsync(LoopItem item, CancellationToken cancellationToken) => _work.Writer.WriteAsync(item, cancellationToken);

    public void Complete() => _work.Writer.TryComplete();

    public async Task RunAsync()
    {
        ChannelReader<LoopItem> reader = _work.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out LoopItem? item))
            {
                Handle(item);
            }

            Volatile.Write(ref _groupCount, _table.GroupCount);
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
        session.Enqueue(reject);
    }

    // ---- ordering listener: the ordered stream drives the group table ----

    public void OnDeliver(GroupMessage message) => _table.Deliver(message, this);

    public void OnTransitional(IReadOnlyList<string> daemons, MembershipId id) => _table.OnTransitional(daemons, id, this);

    public void OnRegular(IReadOnlyList<string> daemons, MembershipId id) => _table.OnRegular(daemons, id, this);

    // ---- group table output: frames to local sessions ----

    public void DeliverData(string mailbox, GroupMessage message)
    {
        if (_sessions.TryGetValue(mailbox, out ClientSession? session) && session.IsEstablished)
        {
            session.Enqueue(message.Frame);
        }
    }

    public void DeliverMembership(string mailbox, ReadOnlyMemory<byte> frame)
    {
        if (_sessions.TryGetValue(mailbox, out ClientSession? session) && session.IsEstablished && session.WantsMembership)
        {
            session.Enqueue(frame);
        }
    }

    public void SubmitGroupsState(GroupsStateMessage state) => _ordering.Submit(GroupMessage.GroupsState(_options.Name, state));
}
