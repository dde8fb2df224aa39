using System.Diagnostics;
using Conclave.Protocol.Ring;
using Conclave.Protocol.Tracing;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>
/// Trace files written by real daemons (<c>--trace FILE</c>, one per daemon, docs/trace-format.md):
/// the test, as the host, records crashes and the healed point, and merges the files for the checker.
/// </summary>
internal static class RingTraces
{
    /// <summary>Microseconds on the monotonic clock the daemons stamp their events with (same host).</summary>
    public static long Now() => Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000);

    /// <summary>The complete events of one file, in its (local) order; a line cut by a kill -9 is left out.</summary>
    public static List<TraceEvent> Read(string path)
    {
        string text = File.Exists(path) ? File.ReadAllText(path) : "";
        string[] lines = text.Split('\n');
        var events = new List<TraceEvent>();
        for (int i = 0; i < lines.Length - 1; i++) // The last piece has no newline: empty or cut short.
        {
            if (lines[i].Length == 0)
            {
                continue;
            }

            Assert.True(TraceJson.TryParse(lines[i], out TraceEvent? e), $"{path}:{i + 1} is not a trace event: {lines[i]}");
            events.Add(e!);
        }

        return events;
    }

    /// <summary>After a kill -9: drops a cut last line and appends the crash of the file's last incarnation.</summary>
    public static void RecordCrash(string path)
    {
        List<TraceEvent> events = Read(path);
        string text = File.ReadAllText(path);
        File.WriteAllText(path, text[..(text.LastIndexOf('\n') + 1)]);
        TraceEvent last = events[^1];
        File.AppendAllLines(path, [TraceJson.Format(new TraceEvent(TraceKind.Crash, Now(), last.Node, last.Incarnation))]);
    }

    /// <summary>Waits until every file records the delivery of the last message the last file's daemon sent.</summary>
    public static async Task WaitForLastSendDeliveredAsync(IReadOnlyList<string> paths)
    {
        MessageId last = Read(paths[^1]).Last(e => e.Kind == TraceKind.Send).Message;
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        while (!paths.All(p => Read(p).Any(e => e.Kind == TraceKind.Deliver && e.Message == last)))
        {
            await Task.Delay(20, timeout.Token); // A polling interval; the condition is the synchronisation.
        }
    }

    /// <summary>Merges the files (each in local order) with a final healed marker and checks them.</summary>
    public static IReadOnlyList<Violation> CheckHealed(IReadOnlyList<string> paths, out int events) =>
        CheckHealed(paths, out events, _ => { });

    /// <summary>As above, after <paramref name="tamper"/> edits the merged events (a negative control).</summary>
    public static IReadOnlyList<Violation> CheckHealed(IReadOnlyList<string> paths, out int events, Action<List<TraceEvent>> tamper)
    {
        List<TraceEvent> merged = [.. paths.SelectMany(Read)];
        tamper(merged);
        events = merged.Count;
        merged.Add(new TraceEvent(TraceKind.Healed, Now(), 0, 0));
        return new TraceChecker().Check(merged);
    }

    /// <summary>Swaps a node's last two deliveries: a reordering the checker must report.</summary>
    public static void SwapLastTwoDeliveriesOfNode(List<TraceEvent> merged, uint node)
    {
        int[] at = [.. Enumerable.Range(0, merged.Count).Where(i => merged[i].Kind == TraceKind.Deliver && merged[i].Node == node).TakeLast(2)];
        (merged[at[0]], merged[at[1]]) = (merged[at[1]], merged[at[0]]);
    }
}
