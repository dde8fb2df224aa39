using System.CommandLine;
using System.Globalization;
using Conclave.Cli.Commands.Groups;

namespace Conclave.Cli.Commands;

/// <summary>
/// `conclave bench groups`: join and leave time against group size over three daemons for plain groups, the Flush
/// layer and secure groups (GDH, CKD, TGDH) — the paper's Figure 3 — and secure/plain throughput for 1 KB
/// messages, written to docs/benchmarks-groups.md and docs/plots/groups-*.png.
/// </summary>
internal static class BenchGroupsCommand
{
    public static Command Create()
    {
        var modes = new Option<string>("--modes") { Description = "Comma-separated: plain, flush, gdh, ckd, tgdh; gdh-fl, ckd-fl, tgdh-fl: secure over FL's FLUSH_OK multicasts instead of the coordinator exchange.", DefaultValueFactory = _ => string.Join(',', BenchMode.Names) };
        var max = new Option<int>("--max") { Description = "Largest group (below 2 skips the join and leave runs).", DefaultValueFactory = _ => 50 };
        var rounds = new Option<int>("--rounds") { Description = "Grow-and-shrink rounds per mode; the tables show the median.", DefaultValueFactory = _ => 3 };
        var members = new Option<int>("--throughput-members") { Description = "Group size for the throughput runs (at least 2; 0 skips them).", DefaultValueFactory = _ => 3 };
        // 9 runs of 10,000 (was 5 of 5,000): on two shared cores single runs swing 2×, and five short runs left one
        // mode's median as much as 0.1 of plain away from the next invocation's (2026-11-24, docs/benchmarks-groups.md).
        var messages = new Option<int>("--messages") { Description = "Messages per throughput run.", DefaultValueFactory = _ => 10_000 };
        var size = new Option<int>("--size") { Description = "Message size in bytes for the throughput runs.", DefaultValueFactory = _ => 1024 };
        var repeats = new Option<int>("--throughput-rounds") { Description = "Throughput runs per mode, modes interleaved; the table shows the median.", DefaultValueFactory = _ => 9 };
        var warmUp = new Option<double>("--warm-up-seconds") { Description = "Least time of unmeasured throughput runs per mode before the measured ones (tiered JIT optimises hot paths only after a while); 0: one run.", DefaultValueFactory = _ => 1 };
        var window = new Option<int>("--window") { Description = "Most throughput messages in flight.", DefaultValueFactory = _ => 200 };
        var jitQuiet = new Option<int>("--jit-quiet-ms") { Description = "Before each throughput run, wait until the JIT has compiled nothing for this long (at most 3 s): tiered recompilation of the set-up code otherwise runs inside the timed run. 0: do not wait.", DefaultValueFactory = _ => 250 };
        var hold = new Option<long?>("--token-hold-us") { Description = "The ring's idle token hold in µs (0: never hold); default: the ring's default." };
        var timeline = new Option<bool>("--timeline") { Description = "Print each join and leave at the largest size member by member (Spread view, Flush view, first key agreement message received, own ones computed; ms from the change's start) to standard error." };
        var output = new Option<DirectoryInfo>("--out") { Description = "The docs directory to write into.", DefaultValueFactory = _ => new DirectoryInfo("docs") };
        var command = new Command("groups", "Join and leave time against group size over three daemons (plain, flush, secure GDH/CKD/TGDH) and secure/plain throughput: table and plots like the paper's Figure 3.")
        {
            modes, max, rounds, members, messages, size, repeats, warmUp, window, jitQuiet, hold, timeline, output,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = new GroupsSettings(
                parse.GetValue(modes)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(BenchMode.Parse).ToList(),
                parse.GetValue(max),
                Math.Max(1, parse.GetValue(rounds)),
                parse.GetValue(members),
                Math.Max(1, parse.GetValue(messages)),
                Math.Max(1, parse.GetValue(size)),
                Math.Max(1, parse.GetValue(repeats)),
                Math.Max(1, parse.GetValue(window)),
                parse.GetValue(hold),
                TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(warmUp))),
                TimeSpan.FromMilliseconds(Math.Max(0, parse.GetValue(jitQuiet))),
                parse.GetValue(timeline));
            string arguments = string.Join(' ', parse.Tokens.Select(t => t.Value));
            return await RunAsync(settings, parse.GetValue(output)!, arguments, cancellation);
        });
        return command;
    }

    private static async Task<int> RunAsync(GroupsSettings settings, DirectoryInfo docs, string arguments, CancellationToken cancellation)
    {
        DateTime started = DateTime.UtcNow;
        string loadBefore = LoadAverage();
        var samples = new List<GroupsSample>();
        var throughput = new List<ThroughputSample>();
        await using (BenchRing ring = await BenchRing.StartAsync(settings.TokenHoldUs, cancellation))
        {
            var bench = new GroupsBenchmark(ring, Progress) { Timeline = settings.Timeline ? TimelineLine : null };

            // Warm-up: two unmeasured rounds per mode at the full size. Tiered JIT recompiles a method after 30 calls (and
            // with PGO once more after 30 instrumented ones), and the code of a membership change runs a few times per
            // member per change: a 4-member round left it compiling through the measured ones (14 % of the process's CPU
            // around the measured joins was the JIT, perf 2026-11-24), one full round still 11-75 methods in round 1's
            // largest join (--timeline).
            for (int warmUp = 1; warmUp <= 2 && settings.MaxN >= 2; warmUp++)
            {
                foreach (BenchMode mode in settings.Modes)
                {
                    await bench.MembershipAsync(mode, settings.MaxN, $"warm-up {warmUp}/2", cancellation);
                }
            }

            for (int round = 1; round <= settings.Rounds && settings.MaxN >= 2; round++)
            {
                foreach (BenchMode mode in settings.Modes)
                {
                    // Each round from a collected heap: the warm-up's and the last round's garbage otherwise comes due in
                    // the first changes of the round (a gen0 collection inside round 1's largest join, run after run).
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    await JitQuiet.WaitAsync(settings.JitQuiet, JitQuiet.Limit, cancellation);
                    samples.AddRange(await bench.MembershipAsync(mode, settings.MaxN, $"round {round}/{settings.Rounds}", cancellation));
                }
            }

            if (settings.ThroughputMembers >= 2)
            {
                foreach (BenchMode mode in settings.Modes)
                {
                    // Unmeasured runs per mode first, for at least --warm-up-seconds: tiered JIT recompiles a hot path only
                    // after it has run a while (a 500-message warm-up left the secure layer's Open and the daemons'
                    // delivery in their first, unoptimised tier through the measured runs: perf, docs/benchmarks-groups.md).
                    var warming = System.Diagnostics.Stopwatch.StartNew();
                    do
                    {
                        await ThroughputRepeatedIfDisturbedAsync(bench, mode, settings, cancellation);
                    }
                    while (warming.Elapsed < settings.ThroughputWarmUp);
                }

                // One more unmeasured round with the modes interleaved, as the measured ones run: methods that reach tiered
                // compilation's call count only after the other modes' warm-ups are recompiled here, not in round 1.
                foreach (BenchMode mode in settings.ThroughputWarmUp > TimeSpan.Zero ? settings.Modes : [])
                {
                    await bench.ThroughputAsync(mode, settings.ThroughputMembers, settings.Messages, settings.Size, settings.Window, settings.JitQuiet, cancellation);
                }

                // Modes interleaved round by round, so a burst of load elsewhere on the machine does not hit one mode only.
                for (int round = 0; round < settings.ThroughputRounds; round++)
                {
                    foreach (BenchMode mode in settings.Modes)
                    {
                        ThroughputSample run = (await ThroughputRepeatedIfDisturbedAsync(bench, mode, settings, cancellation)) with { Round = round + 1 };
                        throughput.Add(run);
                        Progress(string.Create(CultureInfo.InvariantCulture, $"throughput run {round + 1}/{settings.ThroughputRounds} {mode.Label}: {run.MessagesPerSecond:F0} msg/s, {run.CpuMicrosecondsPerMessage:F1} us CPU/msg, per message {run.Runtime.WorkItems / (double)run.Messages:F2} pool items, {run.Runtime.LockContentions / (double)run.Messages:F3} lock contentions; {run.Runtime.Gen0Collections} gen0 GCs; sender waited {run.SenderWaits.ForRoom} times for room, {run.SenderWaits.ForSend} for a send; per message {run.SenderSeconds.WaitingForRoom * 1e6 / run.Messages:F1} us waiting for room, {run.SenderSeconds.Sending * 1e6 / run.Messages:F1} us sending; ring: {run.Messages * 3.0 / Math.Max(1, run.Ring.TokenVisits):F1} messages per rotation, {run.Ring.PacketsSent / (double)run.Messages:F2} packets per message; JIT during the run: {run.Jit.Methods} methods, {run.Jit.Milliseconds:F1} ms"));
                        Console.Error.WriteLine();
                    }
                }
            }
        }

        Console.Error.WriteLine();
        List<GroupsSample> medians = GroupsReport.Medians(samples);
        docs.Create();
        string plotDirectory = Path.Combine(docs.FullName, "plots");
        Directory.CreateDirectory(plotDirectory);
        List<string> plots = medians.Count == 0 ? [] : GroupsReport.Plot(medians, settings.Modes, plotDirectory);
        var info = new GroupsRunInfo(arguments, started, DateTime.UtcNow - started, loadBefore, LoadAverage(), settings.MaxN, settings.Rounds, settings.Window, settings.ThroughputWarmUp, settings.JitQuiet);
        string path = Path.Combine(docs.FullName, "benchmarks-groups.md");
        List<ThroughputSample> throughputMedians = GroupsReport.Medians(throughput);
        string? previous = File.Exists(path) ? await File.ReadAllTextAsync(path, cancellation) : null;
        await File.WriteAllTextAsync(path, GroupsReport.Markdown(info, settings.Modes, medians, throughputMedians, plots, previous), cancellation);
        Console.WriteLine($"wrote {path} and {plots.Count} plots");
        foreach (string line in GroupsReport.Headline(medians, throughputMedians, samples))
        {
            Console.WriteLine(line);
        }

        return 0;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    /// <summary>
    /// One throughput run; a run during which a member installed a view (a reconfiguration under load: what one side
    /// delivered meanwhile never reaches the other) is abandoned and repeated, a few times at most.
    /// </summary>
    /// <summary>A timeline on a line of its own: the progress display rewrites its line with a carriage return.</summary>
    private static void TimelineLine(string line)
    {
        Console.Error.WriteLine();
        Console.Error.WriteLine(line);
    }

    private static async Task<ThroughputSample> ThroughputRepeatedIfDisturbedAsync(GroupsBenchmark bench, BenchMode mode, GroupsSettings settings, CancellationToken cancellation)
    {
        const int MostAttempts = 5;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await bench.ThroughputAsync(mode, settings.ThroughputMembers, settings.Messages, settings.Size, settings.Window, settings.JitQuiet, cancellation);
            }
            catch (ThroughputDisturbedException e) when (attempt < MostAttempts)
            {
                Progress($"throughput {mode.Label}: run repeated, {e.Message}");
                Console.Error.WriteLine();
            }
        }
    }

    private static void Progress(string what) =>
        Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{DateTime.Now:HH:mm:ss} {what,-60}"));
}

/// <summary>What `bench groups` measures.</summary>
internal sealed record GroupsSettings(IReadOnlyList<BenchMode> Modes, int MaxN, int Rounds, int ThroughputMembers, int Messages, int Size, int ThroughputRounds, int Window, long? TokenHoldUs = null, TimeSpan ThroughputWarmUp = default, TimeSpan JitQuiet = default, bool Timeline = false);
