using System.Globalization;
using System.Text;

namespace Conclave.Cli.Commands.Groups;

/// <summary>Turns `bench groups` results into docs/benchmarks-groups.md and PNG plots (ScottPlot), like the paper's Figure 3.</summary>
internal static class GroupsReport
{
    private const string NotesBegin = "<!-- notes:begin -->";
    private const string NotesEnd = "<!-- notes:end -->";
    private static readonly int[] TableSizes = [2, 3, 4, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 64, 100];
    private static readonly int[] BreakdownSizes = [2, 10, 30, 50];

    /// <summary>The median over rounds of each (mode, event, n).</summary>
    public static List<GroupsSample> Medians(IEnumerable<GroupsSample> samples) =>
        samples.GroupBy(s => (s.Mode, s.Event, s.N))
            .Select(g => g.First() with
            {
                Milliseconds = Median(g.Select(s => s.Milliseconds)),
                CpuMilliseconds = Median(g.Select(s => s.CpuMilliseconds)),
                FlushViewMilliseconds = MedianOrNull(g.Select(s => s.FlushViewMilliseconds)),
                SpreadViewMilliseconds = MedianOrNull(g.Select(s => s.SpreadViewMilliseconds)),
                FirstKeyAgreementMilliseconds = MedianOrNull(g.Select(s => s.FirstKeyAgreementMilliseconds)),
                KeyAgreementStartMilliseconds = MedianOrNull(g.Select(s => s.KeyAgreementStartMilliseconds)),
                FirstSentMilliseconds = MedianOrNull(g.Select(s => s.FirstSentMilliseconds)),
                LastSentMilliseconds = MedianOrNull(g.Select(s => s.LastSentMilliseconds)),
                Operations = g.First().Operations,
                FramesToClients = g.All(s => s.FramesToClients is not null) ? (long)Median(g.Select(s => (double)s.FramesToClients!.Value)) : null,
                TokenVisits = g.All(s => s.TokenVisits is not null) ? (long)Median(g.Select(s => (double)s.TokenVisits!.Value)) : null,
            })
            .OrderBy(s => s.Event).ThenBy(s => s.N)
            .ToList();

    /// <summary>The run with the median rate of each mode, with its paired ratios to plain.</summary>
    public static List<ThroughputSample> Medians(IReadOnlyCollection<ThroughputSample> samples)
    {
        Dictionary<int, double> plain = samples.Where(s => s.Mode.Kind == BenchModeKind.Plain).ToDictionary(s => s.Round, s => s.MessagesPerSecond);
        return samples.GroupBy(s => s.Mode)
            .Select(g => g.OrderBy(s => s.MessagesPerSecond).ElementAt(g.Count() / 2) with { Rounds = g.Count(), PairedRatio = Paired(g, plain) })
            .ToList();
    }

    /// <summary>Each run's rate over the plain run's of its round: median and range.</summary>
    private static (double, double, double)? Paired(IEnumerable<ThroughputSample> runs, Dictionary<int, double> plain)
    {
        double[] ratios = [.. runs.Where(r => plain.ContainsKey(r.Round)).Select(r => r.MessagesPerSecond / plain[r.Round])];
        return ratios.Length == 0 ? null : (Median(ratios), ratios.Min(), ratios.Max());
    }

    /// <summary>"median (min–max)" of a sample's paired ratios, or empty.</summary>
    private static string PairedCell(ThroughputSample t) =>
        t.PairedRatio is var (median, min, max) ? F($"{median:F2} ({min:F2}–{max:F2})") : string.Empty;

    public static List<string> Plot(List<GroupsSample> medians, IReadOnlyList<BenchMode> modes, string directory)
    {
        var files = new List<string>();
        foreach ((string kind, bool cpu) in new[] { ("join", false), ("leave", false), ("join", true), ("leave", true) })
        {
            var plot = new ScottPlot.Plot();
            foreach (BenchMode mode in modes)
            {
                var points = medians.Where(s => s.Mode == mode && s.Event == kind).OrderBy(s => s.N).ToList();
                if (points.Count == 0)
                {
                    continue;
                }

                var scatter = plot.Add.Scatter(points.Select(p => (double)p.N).ToArray(), points.Select(p => cpu ? p.CpuMilliseconds : p.Milliseconds).ToArray());
                scatter.LegendText = mode.Label;
                scatter.MarkerSize = 4;
            }

            plot.Title(cpu ? $"{kind}: CPU time of daemons and members together" : $"{kind}: time until the last member has the new view (secure: and key)");
            plot.XLabel("group size n (members over 3 daemons: 1, 1, n - 2)");
            plot.YLabel(cpu ? "CPU milliseconds" : "milliseconds");
            plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
            string file = cpu ? $"groups-{kind}-cpu.png" : $"groups-{kind}.png";
            plot.SavePng(Path.Combine(directory, file), 800, 500);
            files.Add(file);
        }

        return files;
    }

    public static IEnumerable<string> Headline(List<GroupsSample> medians, List<ThroughputSample> throughput, IReadOnlyList<GroupsSample> rounds)
    {
        int maxN = medians.Count == 0 ? 0 : medians.Max(s => s.N);
        foreach (GroupsSample s in medians.Where(s => s.N == maxN).OrderBy(s => s.Event))
        {
            // Every round's figure, not only the median: on a shared machine the spread says as much as the middle.
            string each = string.Join(", ", rounds.Where(r => r.Mode == s.Mode && r.Event == s.Event && r.N == s.N).Select(r => F($"{r.Milliseconds:F1}")));
            string flush = s.FlushViewMilliseconds is double f ? F($" (last Flush view at {f:F2} ms)") : string.Empty;
            if (s.KeyAgreementStartMilliseconds is double k)
            {
                flush += F($" (key agreement started at {k:F2}, messages computed {Cell(s.FirstSentMilliseconds)}..{Cell(s.LastSentMilliseconds)}, first received by all at {Cell(s.FirstKeyAgreementMilliseconds)})");
            }

            yield return F($"{s.Event} n={s.N} {s.Mode.Label}: {s.Milliseconds:F2} ms (rounds: {each}){flush}, {s.CpuMilliseconds:F1} ms CPU (whole process), {s.FramesToClients} frames to members, {s.TokenVisits} token visits");
        }

        ThroughputSample? plain = throughput.FirstOrDefault(t => t.Mode.Kind == BenchModeKind.Plain);
        foreach (ThroughputSample t in throughput)
        {
            string ratio = plain is null ? string.Empty : F($" ({t.MessagesPerSecond / plain.MessagesPerSecond:F2} of plain; paired by round {PairedCell(t)})");
            string cpu = t.CpuMicrosecondsPerMessage is double c ? F($", {c:F1} us CPU/msg (whole process)") : string.Empty;
            yield return F($"throughput {t.Mode.Label}: {t.MessagesPerSecond:F0} msg/s, {t.MegabytesPerSecond:F2} MB/s{ratio}{cpu}");
        }
    }

    public static string Markdown(GroupsRunInfo info, IReadOnlyList<BenchMode> modes, List<GroupsSample> medians, List<ThroughputSample> throughput, List<string> plots, string? previous)
    {
        var md = new StringBuilder();
        md.AppendLine("# Group membership and throughput benchmarks (`conclave bench groups`)");
        md.AppendLine();
        md.AppendLine(F($"Regenerate with `dotnet run -c Release --project src/Conclave.Cli -- {info.Command}`."));
        md.AppendLine(F($"Last run: {info.Started:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, took {info.Took.TotalMinutes:F1} min; load average (1 min) {info.LoadBefore} at the start, {info.LoadAfter} at the end."));
        md.AppendLine();
        md.AppendLine(F($"The paper's Figure 3. Three daemons d1, d2, d3 run in the bench's process and form a ring over sealed UDP on 127.0.0.1; members connect over TCP and are spread as in the paper: the first at d1, the second at d2, every other at d3 (1, 1 and n − 2). A group grows one join at a time to n = {info.MaxN} (each join measured), then shrinks one leave at a time, the newest member leaving (each leave measured); n counts the joiner or the leaver. **Join** runs from the joiner's connect-and-join call (SecureGroup has no separate connect, so every mode includes the TCP connection) until the last member has the view with n members; **leave** runs from the leave request until the last remaining member has the view without the leaver. For secure groups (ristretto255, AES-256-GCM) the time ends when the last member has the secure view, which is delivered only together with its key. Each figure is the median of {info.Rounds} round(s), after two unmeasured rounds at the full size per mode; each round starts from a collected heap, once the JIT has compiled nothing for {info.JitQuiet.TotalMilliseconds:0} ms. Daemons, members and key agreement all share this process and the machine's {Environment.ProcessorCount} cores, so the figures include scheduling on a shared machine; they are wall-clock times."));
        md.AppendLine();
        foreach ((string kind, bool cpu) in new[] { ("join", false), ("leave", false), ("join", true), ("leave", true) })
        {
            if (cpu && kind == "join")
            {
                md.AppendLine("CPU time of the whole process (three daemons and all members; `Environment.CpuUsage`) during each event: less sensitive to other processes on the machine than the elapsed times above, but it includes the ring's idle token circulation and every member's work, not only the critical path.");
                md.AppendLine();
            }

            md.Append(F($"| {kind} n |"));
            foreach (BenchMode mode in modes)
            {
                md.Append(F($" {mode.Label} {(cpu ? "CPU ms" : "ms")} |"));
            }

            md.AppendLine();
            md.Append("|---:|");
            md.AppendLine(string.Concat(modes.Select(_ => "---:|")));
            foreach (int n in medians.Where(s => s.Event == kind).Select(s => s.N).Distinct().Where(n => TableSizes.Contains(n) || n == info.MaxN).Order())
            {
                md.Append(F($"| {n} |"));
                foreach (BenchMode mode in modes)
                {
                    GroupsSample? s = medians.FirstOrDefault(x => x.Mode == mode && x.Event == kind && x.N == n);
                    md.Append(s is null ? " |" : F($" {(cpu ? s.CpuMilliseconds : s.Milliseconds):F1} |"));
                }

                md.AppendLine();
            }

            md.AppendLine();
        }

        AppendBreakdown(md, info, modes, medians);
        AppendFrames(md, info, modes, medians);
        AppendOperations(md, info, modes, medians);
        foreach (string plot in plots)
        {
            md.AppendLine(F($"![{plot}](plots/{plot})"));
        }

        md.AppendLine();
        if (throughput.Count > 0)
        {
            ThroughputSample first = throughput[0];
            md.AppendLine("## Throughput");
            md.AppendLine();
            md.AppendLine(F($"One member at d1 multicasts {first.Messages} AGREED messages of {first.Size} bytes to a group of {first.Members} (spread 1, 1, {first.Members - 2}); the time runs from the first send until every other member has received the last message, with at most {info.Window} messages in flight (unreceived by the slowest member). Same run and ring; first at least {info.WarmUp.TotalSeconds:0.#} s of unmeasured runs per mode (tiered JIT optimises the hot paths only after they have run a while), then {first.Rounds} runs per mode with the modes interleaved, the median run shown. Each run starts once the JIT has compiled nothing for {info.JitQuiet.TotalMilliseconds:0} ms (tiered recompilation of the set-up code otherwise lands inside the timed runs). The ratio to plain is the median run's over plain's median run; the paired ratio divides each run by the plain run of the same round (adjacent in time) and gives the median and range of those. Secure groups seal every message with AES-256-GCM and open it at every receiver."));
            md.AppendLine();
            md.AppendLine("| mode | messages/s | MB/s | ratio to plain | paired ratio, median (range) | CPU µs per message (whole process) |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|");
            ThroughputSample? plain = throughput.FirstOrDefault(t => t.Mode.Kind == BenchModeKind.Plain);
            foreach (ThroughputSample t in throughput)
            {
                string ratio = plain is null ? "" : F($"{t.MessagesPerSecond / plain.MessagesPerSecond:F2}");
                md.AppendLine(F($"| {t.Mode.Label} | {t.MessagesPerSecond:F0} | {t.MegabytesPerSecond:F2} | {ratio} | {PairedCell(t)} | {t.CpuMicrosecondsPerMessage:F1} |"));
            }

            md.AppendLine();
        }

        md.AppendLine(NotesBegin);
        md.AppendLine(KeptNotes(previous) ?? "## Notes\n\n_Analysis of the figures goes here; it is kept when the tables are regenerated._");
        md.AppendLine(NotesEnd);
        return md.ToString();
    }

    /// <summary>Flush and secure groups: when the last member reached each milestone of an event (cumulative from its start).</summary>
    private static void AppendBreakdown(StringBuilder md, GroupsRunInfo info, IReadOnlyList<BenchMode> modes, List<GroupsSample> medians)
    {
        BenchMode[] layered = [.. modes.Where(m => m.Kind != BenchModeKind.Plain)];
        if (layered.Length == 0 || !medians.Any(s => s.FlushViewMilliseconds is not null))
        {
            return;
        }

        md.AppendLine("Where an event's time goes: the moment (ms from the event's start, medians as above) the **last** member reached each step: **Spread view** = the daemon's membership arrived (the Flush layer's flush request; every member then multicasts its FLUSH_OK), **Flush view** = every member's FLUSH_OK had arrived and the Flush layer installed the view, **KA start** = the secure layer had the Flush view and started its key agreement, **KA sent** = the first and the last key agreement message of the change were computed (by whichever members send them; GDH join: the controller's hand-off, then the joiner's key list), **first KA msg** = the first key agreement message of the new view had arrived, **done** = the view (secure: with its key) at the last member.");
        md.AppendLine();
        md.AppendLine("| event | n | mode | Spread view | Flush view | KA start | KA sent | first KA msg | done |");
        md.AppendLine("|---|---:|---|---:|---:|---:|---|---:|---:|");
        foreach (string kind in new[] { "join", "leave" })
        {
            foreach (int n in medians.Where(s => s.Event == kind).Select(s => s.N).Distinct().Where(n => BreakdownSizes.Contains(n) || n == info.MaxN).Order())
            {
                foreach (BenchMode mode in layered)
                {
                    if (medians.FirstOrDefault(x => x.Mode == mode && x.Event == kind && x.N == n) is GroupsSample s)
                    {
                        md.AppendLine(F($"| {kind} | {n} | {mode.Label} | {Cell(s.SpreadViewMilliseconds)} | {Cell(s.FlushViewMilliseconds)} | {Cell(s.KeyAgreementStartMilliseconds)} | {Sent(s)} | {Cell(s.FirstKeyAgreementMilliseconds)} | {s.Milliseconds:F1} |"));
                    }
                }
            }
        }

        md.AppendLine();
    }

    private static string Sent(GroupsSample s) => s.FirstSentMilliseconds is null ? string.Empty : $"{Cell(s.FirstSentMilliseconds)}..{Cell(s.LastSentMilliseconds)}";

    private static string Cell(double? milliseconds) => milliseconds is double m ? m.ToString("F1", CultureInfo.InvariantCulture) : string.Empty;

    private static double? MedianOrNull(IEnumerable<double?> values)
    {
        List<double?> all = [.. values];
        return all.All(v => v is not null) ? Median(all.Select(v => v!.Value)) : null;
    }

    /// <summary>How many frames the daemons wrote to members per event: the work every layer's messages cause, independent of the machine's load.</summary>
    private static void AppendFrames(StringBuilder md, GroupsRunInfo info, IReadOnlyList<BenchMode> modes, List<GroupsSample> medians)
    {
        if (!medians.Any(s => s.FramesToClients is not null))
        {
            return;
        }

        md.AppendLine("Frames the three daemons wrote to members per event, and the token visits of the three daemons (from the event's start to the next event's start; every message delivered to every member counts one frame; the token keeps circulating a while after the last message): counts of work that depend little on the machine's load. Each cell: frames / token visits.");
        md.AppendLine();
        md.Append("| event | n |");
        md.AppendLine(string.Concat(modes.Select(m => F($" {m.Label} |"))));
        md.Append("|---|---:|");
        md.AppendLine(string.Concat(modes.Select(_ => "---:|")));
        foreach (string kind in new[] { "join", "leave" })
        {
            foreach (int n in medians.Where(s => s.Event == kind).Select(s => s.N).Distinct().Where(n => TableSizes.Contains(n) || n == info.MaxN).Order())
            {
                md.Append(F($"| {kind} | {n} |"));
                foreach (BenchMode mode in modes)
                {
                    GroupsSample? s = medians.FirstOrDefault(x => x.Mode == mode && x.Event == kind && x.N == n);
                    md.Append(s?.FramesToClients is long f ? F($" {f} / {s.TokenVisits} |") : " |");
                }

                md.AppendLine();
            }
        }

        md.AppendLine();
    }

    /// <summary>Secure groups: the public-key operations of all members per event (the same in every round: a count, not a time).</summary>
    private static void AppendOperations(StringBuilder md, GroupsRunInfo info, IReadOnlyList<BenchMode> modes, List<GroupsSample> medians)
    {
        BenchMode[] secure = [.. modes.Where(m => m.Kind == BenchModeKind.Secure)];
        if (!medians.Any(s => s.Operations is not null))
        {
            return;
        }

        md.AppendLine("Public-key operations per event, all members together (every member's key agreement module counts its own): exponentiations (variable- and fixed-base; a GDH controller's next share, prepared between changes, counts in the change that uses it) / Ed25519 signatures made / verified. A count that does not depend on the machine's load.");
        md.AppendLine();
        md.Append("| event | n |");
        md.AppendLine(string.Concat(secure.Select(m => F($" {m.Label} exp / sign / verify |"))));
        md.Append("|---|---:|");
        md.AppendLine(string.Concat(secure.Select(_ => "---:|")));
        foreach (string kind in new[] { "join", "leave" })
        {
            foreach (int n in medians.Where(s => s.Event == kind).Select(s => s.N).Distinct().Where(n => BreakdownSizes.Contains(n) || n == info.MaxN).Order())
            {
                md.Append(F($"| {kind} | {n} |"));
                foreach (BenchMode mode in secure)
                {
                    KeyAgreementOperations? o = medians.FirstOrDefault(x => x.Mode == mode && x.Event == kind && x.N == n)?.Operations;
                    md.Append(o is KeyAgreementOperations ops ? F($" {ops.Exponentiations} / {ops.Signatures} / {ops.Verifications} |") : " |");
                }

                md.AppendLine();
            }
        }

        md.AppendLine();
    }

    /// <summary>The hand-written analysis between the notes markers of the previous report, kept across runs.</summary>
    private static string? KeptNotes(string? previous)
    {
        int begin = previous?.IndexOf(NotesBegin, StringComparison.Ordinal) ?? -1;
        int end = previous?.IndexOf(NotesEnd, StringComparison.Ordinal) ?? -1;
        return begin < 0 || end < begin ? null : previous![(begin + NotesBegin.Length)..end].Trim('\n');
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string F(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>How a `bench groups` run was made (for the report's header).</summary>
internal sealed record GroupsRunInfo(string Command, DateTime Started, TimeSpan Took, string LoadBefore, string LoadAfter, int MaxN, int Rounds, int Window, TimeSpan WarmUp = default, TimeSpan JitQuiet = default);
