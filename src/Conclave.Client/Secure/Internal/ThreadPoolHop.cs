using System.Runtime.CompilerServices;

namespace Conclave.Client.Secure.Internal;

/// <summary>
/// Awaiting this moves the rest of the method onto a thread-pool worker. Key agreement work (n scalar multiplications
/// for a GDH controller or joiner, a signature check and a multiplication for every member) must not run on a socket
/// event thread: with inline socket completions (the conclave CLI turns them on) that thread also delivers every other
/// socket it serves, so the work would hold up other members' frames and the daemons' client writes.
/// </summary>
internal readonly struct ThreadPoolHop : ICriticalNotifyCompletion
{
    /// <summary>True when already on a pool worker: a hop would only cost a queue round trip.</summary>
    public bool IsCompleted => Thread.CurrentThread.IsThreadPoolThread;

    public ThreadPoolHop GetAwaiter() => this;

    public void GetResult()
    {
        // Nothing to return: the hop is the point.
    }

    public void OnCompleted(Action continuation) => ThreadPool.QueueUserWorkItem(static c => c(), continuation, preferLocal: false);

    public void UnsafeOnCompleted(Action continuation) => ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
}
