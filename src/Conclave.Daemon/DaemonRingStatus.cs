namespace Conclave.Daemon;

/// <summary>A snapshot of a daemon's ring and daemon links.</summary>
public sealed record DaemonRingStatus
{
    /// <summary>This daemon's node id (configuration index + 1).</summary>
    public uint NodeId { get; init; }

    /// <summary>The ring id in use, <c>rep:seq</c>.</summary>
    public string RingId { get; init; } = "";

    /// <summary>The ring protocol state (Operational, Gather, Commit, Recovery).</summary>
    public string State { get; init; } = "";

    /// <summary>Daemons of the installed regular configuration.</summary>
    public IReadOnlyList<string> Members { get; init; } = [];

    /// <summary>True when daemon links are sealed with AES-256-GCM.</summary>
    public bool Sealed { get; init; }

    /// <summary>UDP packets sent.</summary>
    public long PacketsSent { get; init; }

    /// <summary>UDP packets received (before authentication).</summary>
    public long PacketsReceived { get; init; }

    /// <summary>Messages re-multicast for retransmission requests.</summary>
    public long Retransmitted { get; init; }

    /// <summary>Tokens re-sent after the retransmit timeout.</summary>
    public long TokenRetransmits { get; init; }

    /// <summary>Regular tokens this daemon passed on: one per rotation of its ring (re-sends not counted).</summary>
    public long TokenVisits { get; init; }

    /// <summary>Idle tokens this daemon held (token hold).</summary>
    public long TokenHolds { get; init; }

    /// <summary>Times this daemon kept the token right after sending, as the ring's only sender.</summary>
    public long TokenKeeps { get; init; }

    /// <summary>TokenHoldCancel messages this daemon sent.</summary>
    public long TokenHoldCancels { get; init; }

    /// <summary>Authenticated packets the ring could not parse.</summary>
    public long MalformedRingPackets { get; init; }

    /// <summary>Packets dropped as malformed by the link layer.</summary>
    public long DroppedMalformed { get; init; }

    /// <summary>Packets dropped because they were sealed under another cluster's key.</summary>
    public long DroppedOtherCluster { get; init; }

    /// <summary>Packets dropped because their authentication tag did not verify.</summary>
    public long DroppedForged { get; init; }

    /// <summary>Packets dropped as replays.</summary>
    public long DroppedReplayed { get; init; }

    /// <summary>Plaintext packets dropped while links are sealed.</summary>
    public long DroppedUnsealed { get; init; }

    /// <summary>Authentic packets naming a sender outside the configuration (or this daemon).</summary>
    public long DroppedStrangers { get; init; }

    /// <summary>Link packets sent as split frames (one segmented send each, docs/daemon-link.md).</summary>
    public long SplitFramesSent { get; init; }

    /// <summary>Split frames received and joined whole.</summary>
    public long SplitFramesJoined { get; init; }

    /// <summary>Split frames abandoned with chunks missing (lost on the way; the ring retransmits).</summary>
    public long SplitFramesIncomplete { get; init; }

    /// <summary>Group messages delivered by the ring.</summary>
    public long MessagesDelivered { get; init; }

    /// <summary>Fragments dropped by reassembly (out of sequence or abandoned at a configuration change).</summary>
    public long FragmentsDropped { get; init; }

    /// <summary>Messages and fragments waiting to be sent.</summary>
    public int Backlog { get; init; }

    /// <summary>All packets dropped by the link layer.</summary>
    public long DroppedTotal => DroppedMalformed + DroppedOtherCluster + DroppedForged + DroppedReplayed + DroppedUnsealed + DroppedStrangers;
}
