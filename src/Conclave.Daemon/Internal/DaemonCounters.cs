namespace Conclave.Daemon.Internal;

/// <summary>Counters updated from session threads and the loop; read as a snapshot.</summary>
internal sealed class DaemonCounters
{
    public long SessionsAccepted;
    public long HandshakesRejected;
    public long MalformedFrames;
    public long SlowReadersDisconnected;
    public long Rejects;
    public long FramesIn;
    public long FramesOut;
    public long DataForGoneSessions;

    public DaemonStatistics Snapshot(int sessions, int groups) => new()
    {
        Sessions = sessions,
        Groups = groups,
        SessionsAccepted = Interlocked.Read(ref SessionsAccepted),
        HandshakesRejected = Interlocked.Read(ref HandshakesRejected),
        MalformedFrames = Interlocked.Read(ref MalformedFrames),
        SlowReadersDisconnected = Interlocked.Read(ref SlowReadersDisconnected),
        Rejects = Interlocked.Read(ref Rejects),
        FramesIn = Interlocked.Read(ref FramesIn),
        FramesOut = Interlocked.Read(ref FramesOut),
        DataForGoneSessions = Interlocked.Read(ref DataForGoneSessions),
    };
}
