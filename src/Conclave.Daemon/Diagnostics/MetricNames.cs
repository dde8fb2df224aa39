namespace Conclave.Daemon.Diagnostics;

/// <summary>The daemon's meter, instrument and tag names (docs/operations.md lists them with units).</summary>
public static class DaemonMetricNames
{
    /// <summary>The meter every daemon instrument belongs to.</summary>
    public const string Meter = "Conclave.Daemon";

    /// <summary>Meter tag: the daemon's name.</summary>
    public const string DaemonTag = "conclave.daemon";

    /// <summary>Counter: tokens this daemon received, one per rotation of the ring.</summary>
    public const string TokenRotations = "conclave.ring.token.rotations";
    /// <summary>Counter: tokens re-sent after the token retransmit timeout.</summary>
    public const string TokenRetransmissions = "conclave.ring.token.retransmissions";
    /// <summary>Counter: messages this daemon retransmitted on request.</summary>
    public const string Retransmissions = "conclave.ring.retransmissions";
    /// <summary>Counter: configurations installed, tagged by kind.</summary>
    public const string ConfigurationChanges = "conclave.ring.configuration.changes";
    /// <summary>Gauge: the ring's flow-control window (messages per rotation).</summary>
    public const string FlowControlWindow = "conclave.ring.flow_control.window";
    /// <summary>Gauge: messages sent in the last token rotation (the token's count).</summary>
    public const string FlowControlCount = "conclave.ring.flow_control.count";
    /// <summary>Gauge: messages this daemon was allowed to send on its last token visit.</summary>
    public const string FlowControlAllowed = "conclave.ring.flow_control.allowed";
    /// <summary>Gauge: messages waiting in this daemon for a token visit.</summary>
    public const string RingBacklog = "conclave.ring.backlog";
    /// <summary>Gauge: daemons in the current regular configuration.</summary>
    public const string RingMembers = "conclave.ring.members";
    /// <summary>Counter: ring packets sent.</summary>
    public const string PacketsSent = "conclave.ring.packets.sent";
    /// <summary>Counter: ring packets received.</summary>
    public const string PacketsReceived = "conclave.ring.packets.received";
    /// <summary>Counter: ring packets dropped, tagged by cause.</summary>
    public const string PacketsDropped = "conclave.ring.packets.dropped";
    /// <summary>Counter: ring messages delivered to the group layer.</summary>
    public const string MessagesDelivered = "conclave.ring.messages.delivered";
    /// <summary>Counter: fragments dropped by reassembly (out of sequence, or abandoned at a configuration change).</summary>
    public const string FragmentsDropped = "conclave.ring.fragments.dropped";

    /// <summary>Gauge: connected client sessions.</summary>
    public const string Sessions = "conclave.sessions.active";
    /// <summary>Counter: client connections accepted.</summary>
    public const string SessionsAccepted = "conclave.sessions.accepted";
    /// <summary>Counter: client handshakes refused.</summary>
    public const string HandshakesRejected = "conclave.sessions.handshakes.rejected";
    /// <summary>Counter: sessions the daemon closed, tagged by reason.</summary>
    public const string Disconnects = "conclave.sessions.disconnects";
    /// <summary>Counter: client frames, tagged by direction.</summary>
    public const string Frames = "conclave.sessions.frames";
    /// <summary>Counter: join or leave requests refused.</summary>
    public const string RequestsRejected = "conclave.sessions.requests.rejected";
    /// <summary>Gauge: messages queued to all sessions.</summary>
    public const string QueuedMessages = "conclave.sessions.queue.messages";
    /// <summary>Gauge: the longest queue of any one session.</summary>
    public const string DeepestQueue = "conclave.sessions.queue.deepest";

    /// <summary>Gauge: groups with at least one member.</summary>
    public const string Groups = "conclave.groups.active";
    /// <summary>Gauge: group memberships across all groups.</summary>
    public const string GroupMembers = "conclave.groups.members";
    /// <summary>Counter: ordered messages the group layer did not deliver, tagged by cause.</summary>
    public const string GroupMessagesDropped = "conclave.groups.messages.dropped";
    /// <summary>Counter: membership messages delivered to clients.</summary>
    public const string MembershipMessages = "conclave.groups.membership_messages";

    /// <summary>Tag of <see cref="ConfigurationChanges"/>: <c>regular</c> or <c>transitional</c>.</summary>
    public const string ConfigurationKindTag = "conclave.configuration.kind";

    /// <summary>Tag of <see cref="PacketsDropped"/>: malformed, other_cluster, forged, replayed, unsealed, stranger, unparsable.</summary>
    public const string DropCauseTag = "conclave.drop.cause";

    /// <summary>Tag of <see cref="GroupMessagesDropped"/>: during_exchange (client requests during a state exchange), table (stale state reports, unknown daemons), gone_session (data for a local member already disconnected).</summary>
    public const string GroupDropCauseTag = "conclave.groups.drop.cause";

    /// <summary>Tag of <see cref="Disconnects"/>: <c>slow_reader</c> or <c>malformed_frame</c>.</summary>
    public const string DisconnectReasonTag = "conclave.disconnect.reason";

    /// <summary>Tag of <see cref="Frames"/>: <c>in</c> or <c>out</c>.</summary>
    public const string DirectionTag = "conclave.frame.direction";
}
