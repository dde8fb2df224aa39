using Conclave.Protocol.Ring;
using Conclave.Protocol.Spread;

namespace Conclave.Protocol.Tracing;

/// <summary>Kinds of trace events (ring-protocol.md §4.1, docs/trace-format.md).</summary>
public enum TraceKind : byte
{
    /// <summary>A processor incarnation started.</summary>
    Boot = 1,
    /// <summary>A processor crashed (recorded by the simulator or host).</summary>
    Crash = 2,
    /// <summary>The application handed a message to the daemon.</summary>
    Send = 3,
    /// <summary>A configuration was installed.</summary>
    Conf = 4,
    /// <summary>A message was delivered.</summary>
    Deliver = 5,
    /// <summary>Run metadata: the quiescent suffix starts here (all faults healed).</summary>
    Healed = 6,
    /// <summary>Group layer: a regular membership (view) delivered to a client.</summary>
    GroupView = 7,
    /// <summary>Group layer: a TRANSITION_MESS delivered to a client.</summary>
    GroupTransition = 8,
    /// <summary>Group layer: the self-leave delivered to a client that left a group.</summary>
    GroupLeave = 9,
    /// <summary>Group layer: a client's membership ended without a message to it (its session closed).</summary>
    GroupKill = 10,
    /// <summary>Group layer: a data message applied at a daemon, with its local recipients.</summary>
    GroupData = 11,
    /// <summary>Group layer: a digest of a daemon's whole group table after a ring delivery.</summary>
    GroupDigest = 12,
    /// <summary>Group layer: a configuration handed to the daemon's group table, before the table acts on it.</summary>
    GroupConf = 13,
}

/// <summary>
/// One event of a processor's local log. Which fields are meaningful depends on <see cref="Kind"/>;
/// see docs/trace-format.md for the JSON-lines encoding.
/// </summary>
public sealed record TraceEvent(TraceKind Kind, long TimeUs, uint Node, ulong Incarnation)
{
    /// <summary>Send, Deliver: the message.</summary>
    public MessageId Message { get; init; }
    /// <summary>Send, Deliver: the service.</summary>
    public RingService Service { get; init; }
    /// <summary>Send, Deliver: FNV-1a 64 hash of the payload.</summary>
    public ulong PayloadHash { get; init; }
    /// <summary>Conf: the configuration installed. Deliver: the configuration delivered in. GroupConf: the configuration.</summary>
    public ConfId Conf { get; init; }
    /// <summary>Conf: the members, sorted ascending.</summary>
    public uint[]? Members { get; init; }
    /// <summary>Deliver: ring in which the message was sequenced.</summary>
    public RingId Ring { get; init; }
    /// <summary>Deliver: seq in that ring.</summary>
    public ulong Seq { get; init; }
    // The group-layer fields live in one side object: ring events (most of a trace) then carry a
    // single null reference instead of nine fields. Setting one copies the side object, so `with`
    // never shares a change between two events.
    private GroupFields? _group;

    private GroupFields G => _group ?? GroupFields.Empty;

    /// <summary>Group events except GroupData: the client's private name.</summary>
    public string? Client { get => _group?.Client; init => _group = G with { Client = value }; }
    /// <summary>Group events except GroupData: the group.</summary>
    public string? Group { get => _group?.Group; init => _group = G with { Group = value }; }
    /// <summary>GroupView, GroupTransition: the group id the client received.</summary>
    public GroupId GroupId { get => G.GroupId; init => _group = G with { GroupId = value }; }
    /// <summary>GroupView: the members in view order. GroupData: the local recipients. GroupConf: the configuration's daemons.</summary>
    public string[]? Names { get => _group?.Names; init => _group = G with { Names = value }; }
    /// <summary>GroupView: <c>join</c>, <c>leave</c>, <c>disconnect</c> or <c>network</c>.</summary>
    public string? Cause { get => _group?.Cause; init => _group = G with { Cause = value }; }
    /// <summary>GroupView: the vs-sets.</summary>
    public string[][]? VsSets { get => _group?.VsSets; init => _group = G with { VsSets = value }; }
    /// <summary>GroupView: index of the client's own vs-set.</summary>
    public int LocalVsSet { get => G.LocalVsSet; init => _group = G with { LocalVsSet = value }; }
    /// <summary>GroupData: the destination groups.</summary>
    public string[]? Groups { get => _group?.Groups; init => _group = G with { Groups = value }; }
    /// <summary>GroupData: the sending client.</summary>
    public string? Sender { get => _group?.Sender; init => _group = G with { Sender = value }; }

    private sealed record GroupFields
    {
        public static readonly GroupFields Empty = new();
        public string? Client { get; init; }
        public string? Group { get; init; }
        public GroupId GroupId { get; init; }
        public string[]? Names { get; init; }
        public string? Cause { get; init; }
        public string[][]? VsSets { get; init; }
        public int LocalVsSet { get; init; }
        public string[]? Groups { get; init; }
        public string? Sender { get; init; }
    }

    /// <summary>FNV-1a 64-bit hash, used for payload identity in traces.</summary>
    public static ulong Hash(ReadOnlySpan<byte> payload)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in payload)
        {
            h ^= b;
            h *= 1099511628211UL;
        }
        return h;
    }
}
