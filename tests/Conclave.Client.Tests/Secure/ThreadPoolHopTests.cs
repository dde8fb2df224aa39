using Conclave.Client.Secure.Internal;

namespace Conclave.Client.Tests.Secure;

/// <summary>Key agreement work leaves the thread that delivered its frame (a socket event thread) for a pool worker.</summary>
public sealed class ThreadPoolHopTests
{
    [Fact]
    public async Task A_hop_from_a_dedicated_thread_continues_on_a_pool_worker()
    {
        var result = new TaskCompletionSource<(bool StartedOnPool, bool ContinuedOnPool, bool SameThread)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() => _ = HopAsync(result)) { IsBackground = true, Name = "not a pool thread" };
        thread.Start();

        (bool startedOnPool, bool continuedOnPool, bool sameThread) = await result.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(startedOnPool);
        Assert.True(continuedOnPool);
        Assert.False(sameThread);
    }

    [Fact]
    public async Task On_a_pool_worker_the_hop_completes_at_once()
    {
        (bool completed, bool onPool) = await Task.Run(() => (new ThreadPoolHop().IsCompleted, Thread.CurrentThread.IsThreadPoolThread));
        Assert.True(onPool);
        Assert.True(completed);
    }

    private static async Task HopAsync(TaskCompletionSource<(bool, bool, bool)> result)
    {
        Thread before = Thread.CurrentThread;
        bool startedOnPool = before.IsThreadPoolThread;
        await new ThreadPoolHop();
        result.SetResult((startedOnPool, Thread.CurrentThread.IsThreadPoolThread, ReferenceEquals(before, Thread.CurrentThread)));
    }
}
