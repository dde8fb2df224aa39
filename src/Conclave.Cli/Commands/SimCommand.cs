using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Conclave.Protocol.Simulation;
using Conclave.Protocol.Tracing;

namespace Conclave.Cli.Commands;

/// <summary>
/// `conclave sim`: runs seeded ring simulations, checks every trace against the EVS properties and
/// prints per campaign the seeds, simulated time, deliveries, configurations and violations.
/// </summary>
internal static class SimCommand
{
    private static readonly TimeSpan ProgressPeriod = TimeSpan.FromSeconds(10);

    public static Command Create()
    {
        var seeds = new Option<int>("--seeds") { Description = "Number of random seeds to run.", DefaultValueFactory = _ => 100 };
        var first = new Option<ulong>("--first-seed") { Description = "First seed of the campaign.", DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong?>("--seed") { Description = "Run exactly this seed (replay)." };
        var daemons = new Option<int>("--daemons") { Description = "Daemons per run (0: 3-7 drawn per seed).", DefaultValueFactory = _ => 0 };
        var loss = new Option<double>("--loss") { Description = "Maximum base loss probability per run.", DefaultValueFactory = _ => 0.2 };
        var faults = new Option<string>("--faults") { Description = "Fault classes: all, none, or a list of partitions,crashes,restarts,oneway,pauses,loss.", DefaultValueFactory = _ => "all" };
        var scenario = new Option<string>("--scenario") { Description = "Scenario: random or one of the named ones.", DefaultValueFactory = _ => "random" };
        var trace = new Option<bool>("--trace") { Description = "Print the trace slice around each violation (or the run's configurations when clean)." };
        var traceFile = new Option<string?>("--trace-file") { Description = "Write the whole trace of a single-seed run as JSON lines." };
        var groups = new Option<bool>("--groups") { Description = "Run the group layer on the ring with client churn and check the group tables." };
        var jobs = new Option<int>("--jobs") { Description = "Runs in parallel.", DefaultValueFactory = _ => 1 };

        var command = new Command("sim", "Run deterministic ring simulations and check the EVS properties.");
        foreach (Option o in new Option[] { seeds, first, seed, daemons, loss, faults, scenario, trace, traceFile, groups, jobs }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            var options = new CampaignOptions(parse.GetValue(daemons), parse.GetValue(loss), CampaignOptions.ParseFaults(parse.GetValue(faults)!), parse.GetValue(groups));
            string scenarioName = parse.GetValue(scenario)!;
            ulong? single = parse.GetValue(seed);
            ulong start = single ?? parse.GetValue(first);
            int count = single is null ? parse.GetValue(seeds) : 1;
            return RunCampaign(options, scenarioName, start, count, parse.GetValue(trace) || parse.GetValue(traceFile) is not null, Math.Max(1, parse.GetValue(jobs)), parse.GetValue(traceFile));
        });
        return command;
    }

    private static int RunCampaign(CampaignOptions options, string scenario, ulong start, int count, bool showTrace, int jobs, string? traceFile)
    {
        var watch = Stopwatch.StartNew();
        TimeSpan cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        var results = new SimulationResult[count];
        var progress = new CampaignProgress(count, watch);
        using (var timer = new Timer(_ => progress.Report(Console.Error), null, ProgressPeriod, ProgressPeriod))
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = jobs }, i =>
            {
                results[i] = SimulationRunner.Run(options.ConfigFor(start + (ulong)i), scenario, keepTrace: showTrace);
                progress.Done(results[i]);
            });
        }

        if (count > 1)
        {
            progress.Report(Console.Error);
        }

        double wall = watch.Elapsed.TotalSeconds;
        // CPU time is the steadier speed figure on a shared machine (the wall rate follows the load).
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalSeconds;
        if (traceFile is not null && results[0].Trace is { } all)
        {
            using var writer = new StreamWriter(traceFile);
            TraceJson.Write(writer, all);
        }

        long simulated = results.Sum(r => r.SimulatedUs);
        long delivered = results.Sum(r => r.Delivered);
        long confs = results.Sum(r => r.Configurations);
        SimulationResult[] failed = [.. results.Where(r => r.Violations.Count > 0)];
        long[] conv = [.. results.Where(r => r.ConvergenceUs >= 0).Select(r => r.ConvergenceUs).Order()];
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"campaign: scenario={scenario} seeds={start}..{start + (ulong)count - 1} ({count}) daemons={(options.Daemons == 0 ? "3-7" : options.Daemons)} max-loss={options.MaxLoss} faults={CampaignOptions.FormatFaults(options.Faults)} groups={options.Groups}"));
        Console.WriteLine(string.Create(inv, $"simulated: {simulated / 1e6:F1} s in {wall:F1} s wall ({simulated / 1e6 / Math.Max(wall, 1e-9):F0}x), {cpu:F1} s CPU ({simulated / 1e6 / Math.Max(cpu, 1e-9):F0}x per CPU second)"));
        Console.WriteLine(string.Create(inv, $"delivered: {delivered} messages, {confs} configurations installed"));
        if (conv.Length > 0)
        {
            Console.WriteLine(string.Create(inv, $"convergence after heal (simulated ms): p50={conv[conv.Length / 2] / 1000.0:F0} p90={conv[(int)(conv.Length * 0.9)] / 1000.0:F0} p99={conv[(int)(conv.Length * 0.99)] / 1000.0:F0} max={conv[^1] / 1000.0:F0} ({conv.Length}/{count} runs converged)"));
        }
        Console.WriteLine($"violations: {failed.Sum(r => r.Violations.Count)} in {failed.Length} runs");
        foreach (SimulationResult r in failed)
        {
            Console.WriteLine($"  seed {r.Seed}: {r.Violations.Count} violations, first: {r.Violations[0]}");
            Console.WriteLine($"  replay: conclave sim --seed {r.Seed} --daemons {options.ConfigFor(r.Seed).Daemons} --loss {options.MaxLoss.ToString(inv)} --faults {CampaignOptions.FormatFaults(options.Faults)} --scenario {scenario}{(options.Groups ? " --groups" : "")} --trace");
            if (showTrace && r.Trace is not null) PrintSlice(r.Trace, r.Violations[0]);
        }
        if (showTrace && failed.Length == 0 && count == 1 && results[0].Trace is { } t)
        {
            foreach (TraceEvent e in t.Where(e => e.Kind is TraceKind.Conf or TraceKind.Crash or TraceKind.Boot or TraceKind.Healed)) Console.WriteLine(TraceJson.Format(e));
        }
        return failed.Length == 0 ? 0 : 1;
    }

    private static void PrintSlice(IReadOnlyList<TraceEvent> trace, Violation v)
    {
        // The minimal slice: events of the processors involved, from the configuration change before
        // the violation to the one after it.
        var nodes = v.Procs.Select(p => p.Node).ToHashSet();
        var mine = trace.Where(e => nodes.Contains(e.Node)).ToList();
        int at = mine.FindIndex(e => e.TimeUs >= v.TimeUs);
        if (at < 0) at = mine.Count - 1;
        int from = mine.FindLastIndex(Math.Max(0, at), e => e.Kind == TraceKind.Conf);
        int to = mine.FindIndex(Math.Min(mine.Count - 1, at + 1), e => e.Kind == TraceKind.Conf);
        from = Math.Max(0, from < 0 ? at - 20 : from - 5);
        to = Math.Min(mine.Count - 1, to < 0 ? at + 20 : to + 5);
        Console.WriteLine($"  trace slice ({from}..{to} of nodes {string.Join(",", nodes.Order())}):");
        for (int i = from; i <= to; i++) Console.WriteLine("    " + TraceJson.Format(mine[i]));
    }
}
