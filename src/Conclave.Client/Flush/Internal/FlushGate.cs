namespace Conclave.Client.Flush.Internal;

/// <summary>
/// The Flush session's gate: one holder at a time, awaited (a holder may write to the socket). It spins briefly
/// before queuing, because on the message path its holders keep it for about a microsecond (the receive loop
/// handling one frame, a sender copying into the send batch), while a queued waiter is handed the gate on release
/// and runs only once a thread-pool thread picks it up. Meanwhile the releaser, back at once with the next frame or
/// message, finds the gate taken and queues in turn: the two then go on by thread-pool hops, both stalled for each
/// (docs/benchmarks-groups.md, tenth session).
/// </summary>
internal sealed class FlushGate : IDisposable
{
    // Spins before queuing: the first ten are short, growing busy-waits, the rest yield the core, so that a holder
    // preempted by the spinner's thread can finish (measured on two cores: stopping at the first yield, the secure
    // bench sender still queued 34 times per 20,000 messages; with ten yields more, once or twice).
    private const int SpinLimit = 20;

    private readonly SemaphoreSlim _semaphore = new(1, 1);

    /// <summary>Takes the gate: at once if free, after a short spin if it frees meanwhile, otherwise queued.</summary>
    public ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        // Wait(0) fails without taking the semaphore's lock while the gate is held, and never overtakes a queued
        // waiter: a release hands the gate to the first one directly.
        SpinWait spinner = default;
        while (!_semaphore.Wait(0, CancellationToken.None))
        {
            if (spinner.Count >= SpinLimit)
            {
                return new ValueTask(_semaphore.WaitAsync(cancellationToken));
            }

            spinner.SpinOnce(sleep1Threshold: -1);
        }

        return ValueTask.CompletedTask;
    }

    public void Release() => _semaphore.Release();

    /// <summary>Frees the semaphore (the Flush session keeps its gate undisposed: see <see cref="FlushConnection.DisposeAsync"/>).</summary>
    public void Dispose() => _semaphore.Dispose();
}
