using System.Diagnostics;
using System.Runtime;

namespace Conclave.Cli.Commands.Groups;

/// <summary>
/// Waits until the runtime's JIT has compiled nothing for a while. Tiered compilation recompiles a method in the
/// background once it has been called 30 times: the set-up of each throughput run (connections, joins, key agreement)
/// keeps reaching that count for many runs, and those recompilations (hundreds per secure run, a few ms each) landed
/// inside the next timed runs, on the same two cores (docs/benchmarks-groups.md, ninth session).
/// </summary>
internal static class JitQuiet
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest wait: a process whose JIT never goes quiet still gets measured.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(3);

    /// <summary>Polls the process's compiled-method count until it stays unchanged for <paramref name="quiet"/>, at most <paramref name="limit"/>.</summary>
    /// <returns>How long it waited.</returns>
    public static async Task<TimeSpan> WaitAsync(TimeSpan quiet, TimeSpan limit, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        long count = JitInfo.GetCompiledMethodCount();
        var still = Stopwatch.StartNew();
        while (still.Elapsed < quiet && waited.Elapsed < limit)
        {
            // Polling: the runtime raises no event when its background compilation queue empties.
            await Task.Delay(Poll, cancellationToken);
            long now = JitInfo.GetCompiledMethodCount();
            if (now != count)
            {
                count = now;
                still.Restart();
            }
        }

        return waited.Elapsed;
    }

    /// <summary>Methods compiled and JIT time so far (whole process), for a run's before/after.</summary>
    public static (long Methods, TimeSpan Time) Read() => (JitInfo.GetCompiledMethodCount(), JitInfo.GetCompilationTime());
}
