using System.Diagnostics;
using System.Globalization;
using Conclave.Protocol.Simulation;

namespace Conclave.Cli.Commands;

/// <summary>
/// Counts finished runs of a `conclave sim` campaign (from parallel workers) and prints a progress
/// line on stderr, so a long campaign shows how far it is and whether anything failed yet.
/// </summary>
internal sealed class CampaignProgress(int total, Stopwatch watch)
{
    private int _done;
    private int _failedRuns;
    private long _violations;
    private long _simulatedUs;
    private long _delivered;
    private long _configurations;

    public void Done(SimulationResult result)
    {
        Interlocked.Add(ref _simulatedUs, result.SimulatedUs);
        Interlocked.Add(ref _delivered, result.Delivered);
        Interlocked.Add(ref _configurations, result.Configurations);
        Interlocked.Increment(ref _done);
        if (result.Violations.Count > 0)
        {
            Interlocked.Increment(ref _failedRuns);
            Interlocked.Add(ref _violations, result.Violations.Count);
        }
    }

    public void Report(TextWriter writer)
    {
        int done = Volatile.Read(ref _done);
        double elapsed = watch.Elapsed.TotalSeconds;
        double eta = done == 0 ? double.NaN : elapsed / done * (total - done);
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"progress: {done}/{total} seeds, {Volatile.Read(ref _violations)} violations in {Volatile.Read(ref _failedRuns)} runs, simulated {Volatile.Read(ref _simulatedUs) / 1e6:F0} s, {Volatile.Read(ref _delivered)} delivered, {Volatile.Read(ref _configurations)} configurations, {elapsed:F0} s elapsed, ~{eta:F0} s left"));
    }
}
