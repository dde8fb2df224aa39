using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Conclave.Crypto.KeyAgreement.Simulation;

/// <summary>
/// CPU time consumed by the calling thread, in nanoseconds (Linux: clock_gettime(CLOCK_THREAD_CPUTIME_ID)).
/// The paper reports CPU time (getrusage); on a shared machine wall-clock time would mostly measure other processes.
/// Elsewhere it falls back to the wall clock.
/// </summary>
internal static partial class ThreadCpuClock
{
    private const int ClockThreadCpuTimeId = 3;

    public static bool IsCpuTime { get; } = OperatingSystem.IsLinux() && Probe();

    public static long NowNanoseconds()
    {
        if (IsCpuTime && clock_gettime(ClockThreadCpuTimeId, out Timespec t) == 0)
        {
            return (t.Seconds * 1_000_000_000L) + t.Nanoseconds;
        }

        return (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
    }

    private static bool Probe()
    {
        try
        {
            return clock_gettime(ClockThreadCpuTimeId, out _) == 0;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", SetLastError = false)]
    private static partial int clock_gettime(int clockId, out Timespec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
