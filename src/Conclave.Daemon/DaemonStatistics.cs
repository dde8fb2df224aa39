namespace Conclave.Daemon;

/// <summary>A snapshot of a daemon's counters.</summary>
public sealed record DaemonStatistics
{
    /// <summary>Sessions currently connected (handshake complete).</summary>
    public int Sessions { get; init; }

    /// <summary>Groups in the table.</summary>
    public int Groups { get; init; }

    /// <summary>Sessions accepted since start.</summary>
    public long SessionsAccepted { get; init; }

    /// <summary>Handshakes refused (bad version, name, authentication, quota) or abandoned.</summary>
    public long HandshakesRejected { get; init; }

    /// <summary>Sessions closed because a frame broke the protocol.</summary>
    public long MalformedFrames { get; init; }

    /// <summary>Sessions closed because they stopped reading.</summary>
    public long SlowReadersDisconnected { get; init; }

    /// <summary>Requests refused with a reject message.</summary>
    public long Rejects { get; init; }

    /// <summary>Well-formed frames received from clients and handled by the event loop.</summary>
    public long FramesIn { get; init; }

    /// <summary>Frames queued to clients.</summary>
    public long FramesOut { get; init; }

    /// <summary>Ordered messages the group table did not apply: stale or duplicated state reports, unknown daemons, and <see cref="RequestsDuringExchange"/>.</summary>
    public long GroupMessagesDropped { get; init; }

    /// <summary>Client requests (data, joins, leaves, disconnects) ordered during a group state exchange and dropped alike at every daemon (J6 broken: should stay 0).</summary>
    public long RequestsDuringExchange { get; init; }

    /// <summary>The last request counted in <see cref="RequestsDuringExchange"/>: its kind, sender and groups, or null.</summary>
    public string? LastRequestDuringExchange { get; init; }

    /// <summary>Data messages addressed to a local member whose session had already gone (it disconnected before its leave was ordered).</summary>
    public long DataForGoneSessions { get; init; }

    /// <summary>The ring and its links, for a daemon in a ring; null for a daemon alone.</summary>
    public DaemonRingStatus? Ring { get; init; }
}
