using Conclave.Client.Flush.Internal;

namespace Conclave.Client.Tests.Flush;

/// <summary>The Flush session's gate: one holder at a time, waiters served in order, cancellation honoured.</summary>
public sealed class FlushGateTests
{
    [Fact]
    public async Task A_free_gate_is_taken_at_once()
    {
        using var gate = new FlushGate();
        ValueTask taken = gate.WaitAsync(CancellationToken.None);
        Assert.True(taken.IsCompletedSuccessfully);
        await taken;
        gate.Release();
        Assert.True(gate.WaitAsync(CancellationToken.None).AsTask().IsCompletedSuccessfully);
    }

    [Fact]
    public async Task A_waiter_gets_the_gate_only_when_the_holder_releases_it()
    {
        using var gate = new FlushGate();
        await gate.WaitAsync(CancellationToken.None);
        Task first = gate.WaitAsync(CancellationToken.None).AsTask();
        Task second = gate.WaitAsync(CancellationToken.None).AsTask();
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);

        // A release hands the gate to the first queued waiter; a new comer spinning on it cannot overtake.
        gate.Release();
        await first;
        Task third = gate.WaitAsync(CancellationToken.None).AsTask();
        Assert.False(second.IsCompleted);
        Assert.False(third.IsCompleted);
        gate.Release();
        await second;
        Assert.False(third.IsCompleted);
        gate.Release();
        await third;
    }

    [Fact]
    public async Task A_cancelled_wait_does_not_take_the_gate()
    {
        using var gate = new FlushGate();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await gate.WaitAsync(cancelled.Token));
        Assert.True(gate.WaitAsync(CancellationToken.None).AsTask().IsCompletedSuccessfully);

        // A queued waiter cancelled while the gate is held leaves it to the next one.
        using var later = new CancellationTokenSource();
        Task queued = gate.WaitAsync(later.Token).AsTask();
        await later.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        Task next = gate.WaitAsync(CancellationToken.None).AsTask();
        gate.Release();
        await next;
    }
}
