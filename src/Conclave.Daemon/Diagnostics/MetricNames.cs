namespace Conclave.Daemon.Diagnostics;

/// <summary>The daemon's meter, instrument and tag names (docs/operations.md lists them with units).</summary>
public static class DaemonMetricNames
{
    /// <summary>The meter every daemon instrument belongs to.</summary>
    public const string Meter = "Conclave.Daemon";

    /// <summary>Meter tag: the daemon's name.</summary>
    public const string DaemonTag = "conclave.daemon";

    public const string TokenRotations = "conclave.ring.token.rotations";
    public const string TokenRetransmissions = "conclave.ring.token.retransmissions";
    public const string Retransmissions = "conclave.ring.retransmissions";
    public const string ConfigurationChanges = "conclave.ring.configuration.changes";
    public const string FlowControlWindow = "conclave.ring.flow_control.window";
    public const string FlowControlCount = "conclave.ring.flow_control.count";
    public const string FlowControlAllowed = "conclave.ring.flow_control.allowed";
    public const string RingBacklog = "conclave.ring.backlog";
    public const string RingMembers = "conclave.ring.members";
    public const string PacketsSent = "conclave.ring.packets.sent";
    public const string PacketsReceived = "conclave.ring.packets.received";
    public const string PacketsDropped = "conclave.ring.packets.dropped";
    public const string MessagesDelivered = "conclave.ring.messages.delivered";
    public const string FragmentsDropped = "conclave.ring.fragments.dropped";

    public const string Sessions = "conclave.sessions.active";
    public const string SessionsAccepted = "conclave.sessions.accepted";
    public const string HandshakesRejected = "conclave.sessions.handshakes.rejected";
    public const string Disconnects = "conclave.sessions.disconnects";
    public const string Frames = "conclave.sessions.frames";
    public const string RequestsRejected = "conclave.sessions.requests.rejected";
    public const string QueuedMessages = "conclave.sessions.queue.messages";
    public const string DeepestQueue = "conclave.sessions.queue.deepest";

    public const string Groups = "conclave.groups.active";
    public const string GroupMembers = "conclave.groups.members";
    public const string MembershipMessages = "conclave.groups.membership_messages";

    /// <summary>Tag of <see cref="ConfigurationChanges"/>: <c>regular</c> or <c>transitional</c>.</summary>
    public const string ConfigurationKindTag = "conclave.configuration.kind";

    /// <summary>Tag of <see cref="PacketsDropped"/>: malformed, other_cluster, forged, replayed, unsealed, stranger, unparsable.</summary>
    public const string DropCauseTag = "conclave.drop.cause";

    /// <summary>Tag of <see cref="Disconnects"/>: <c>slow_reader</c> or <c>malformed_frame</c>.</summary>
    public const string DisconnectReasonTag = "conclave.disconnect.reason";

    /// <summary>Tag of <see cref="Frames"/>: <c>in</c> or <c>out</c>.</summary>
    public const string DirectionTag = "conclave.frame.direction";
}
