namespace Conclave.Cli.Commands;

/// <summary>
/// Paces `conclave flood`: at most <c>window</c> messages are in flight, where a message stays in flight
/// until the slowest session has received it. That bounds every session's backlog at the daemon below
/// Spread's 1,000-message limit, whatever the relative speed of senders and receivers.
/// </summary>
internal sealed class FloodWindow : IDisposable
{
    private readonly SemaphoreSlim _credits;
    private readonly long[] _received;
    private long _released;

    public FloodWindow(int window, int sessions)
    {
        _credits = new SemaphoreSlim(window, int.MaxValue);
        _received = new long[sessions];
    }

    /// <summary>Waits for room for one more message.</summary>
    public Task AcquireAsync(CancellationToken cancellationToken) => _credits.WaitAsync(cancellationToken);

    /// <summary>Counts one message received by a session; frees the credits the slowest session has now passed.</summary>
    public void Received(int session)
    {
        Interlocked.Increment(ref _received[session]);
        long slowest = long.MaxValue;
        foreach (ref long count in _received.AsSpan())
        {
            slowest = Math.Min(slowest, Volatile.Read(ref count));
        }

        long released = Volatile.Read(ref _released);
        while (slowest > released)
        {
            long seen = Interlocked.CompareExchange(ref _released, slowest, released);
            if (seen == released)
            {
                _credits.Release((int)(slowest - released));
                return;
            }

            released = seen;
        }
    }

    public void Dispose() => _credits.Dispose();
}
