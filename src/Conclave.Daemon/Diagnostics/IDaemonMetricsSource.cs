using Conclave.Daemon.Internal;
using Conclave.Protocol.Ring;

namespace Conclave.Daemon.Diagnostics;

/// <summary>What the daemon's observable instruments read when a collector asks (never on the message path).</summary>
internal interface IDaemonMetricsSource
{
    /// <summary>The counters sessions and the loop update.</summary>
    DaemonCounters Counters { get; }

    /// <summary>Sessions whose handshake is complete.</summary>
    int EstablishedSessions { get; }

    /// <summary>Messages queued for clients: in all, and for the session furthest behind.</summary>
    (int Total, int Deepest) QueuedMessages();

    /// <summary>Groups in the table and memberships over all of them (serialised with the loop).</summary>
    (int Groups, int Members) GroupTotals();

    /// <summary>Ordered messages the group table dropped, and of those the client requests ordered during a state exchange (serialised with the loop).</summary>
    (long Dropped, long DuringExchange) GroupTableDrops();

    /// <summary>The ring and its links; null for a daemon alone or not yet started.</summary>
    DaemonRingStatus? RingStatus();

    /// <summary>The ring's token counters; null for a daemon alone.</summary>
    RingFlowCounters? RingFlow { get; }
}
