using System.Globalization;
using System.Text;
using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Cli.Commands;

/// <summary>Turns `bench kx` samples into docs/benchmarks-kx.md and PNG plots (ScottPlot).</summary>
internal static class KxReport
{
    private const string KeepBegin = "<!-- primitives:begin -->";
    private const string KeepEnd = "<!-- primitives:end -->";
    private static readonly int[] TableSizes = [2, 5, 10, 15, 20, 30, 50, 64, 100, 128, 256, 512, 1000];

    public static List<string> Plot(List<KxSample> samples, string directory)
    {
        var files = new List<string>();
        foreach (var byGroup in samples.GroupBy(s => s.Group))
        {
            foreach (string kind in new[] { "join", "leave" })
            {
                var plot = new ScottPlot.Plot();
                foreach (var series in byGroup.Where(s => s.Event == kind).GroupBy(s => s.Protocol))
                {
                    var points = series.OrderBy(s => s.N).ToList();
                    var scatter = plot.Add.Scatter(points.Select(p => (double)p.N).ToArray(), points.Select(p => p.SerialMs).ToArray());
                    scatter.LegendText = series.Key.ToString().ToUpperInvariant();
                    scatter.MarkerSize = points.Count > 40 ? 0 : 5;
                }

                plot.Title($"{kind} on {byGroup.Key}: CPU time on the critical path");
                plot.XLabel("group size n");
                plot.YLabel("milliseconds");
                plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
                string file = $"kx-{byGroup.Key}-{kind}.png";
                plot.SavePng(Path.Combine(directory, file), 800, 500);
                files.Add(file);
            }
        }

        var counts = new ScottPlot.Plot();
        foreach (var series in samples.Where(s => s.Group == samples[0].Group).GroupBy(s => (s.Protocol, s.Event)))
        {
            var points = series.OrderBy(s => s.N).Where(s => s.N <= 100).ToList();
            var scatter = counts.Add.Scatter(points.Select(p => (double)p.N).ToArray(), points.Select(p => (double)p.SerialExps).ToArray());
            scatter.LegendText = $"{series.Key.Protocol.ToString().ToUpperInvariant()} {series.Key.Event}";
            scatter.MarkerSize = 0;
        }

        counts.Title("serial exponentiations (measured by the counters)");
        counts.XLabel("group size n");
        counts.YLabel("exponentiations on the critical path");
        counts.ShowLegend(ScottPlot.Alignment.UpperLeft);
        counts.SavePng(Path.Combine(directory, "kx-exponentiations.png"), 800, 500);
        files.Add("kx-exponentiations.png");
        return files;
    }

    public static IEnumerable<string> Headline(List<KxSample> samples)
    {
        KxSample? gdh30 = samples.FirstOrDefault(s => s is { Protocol: KeyAgreementProtocol.Gdh, Group: "ristretto255", Event: "join", N: 30 });
        if (gdh30 is not null)
        {
            yield return F($"GDH join n=30 ristretto255: {gdh30.SerialMs:F2} ms on the critical path, {gdh30.SerialExps} serial exponentiations");
        }

        foreach (KxSample s in samples.Where(s => s is { Protocol: KeyAgreementProtocol.Tgdh, Group: "ristretto255", N: 1000 }))
        {
            yield return F($"TGDH {s.Event} n=1000 ristretto255: {s.SerialMs:F2} ms on the critical path, {s.SerialExps} serial exponentiations");
        }
    }

    public static string Markdown(List<KxSample> samples, List<string> plots, string command, TimeSpan took, string? previous)
    {
        var md = new StringBuilder();
        md.AppendLine("# Key agreement benchmarks (`conclave bench kx`)");
        md.AppendLine();
        md.AppendLine(F($"Regenerate with `dotnet run -c Release --project src/Conclave.Cli -- {command["conclave ".Length..]}`."));
        md.AppendLine(F($"Last run: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, took {took.TotalMinutes:F1} min."));
        md.AppendLine();
        md.AppendLine("Pure computation: every member's module runs in one process in the deterministic simulator (no network). " +
            "**n** counts the joiner for a join and the leaver for a leave (the paper's convention). " +
            "**serial exp** = exponentiations on the longest causal chain, measured by the per-member counters; " +
            "**serial ms** = thread CPU time along the longest causal chain from the view to the last member's key — the join or leave cost the targets refer to: " +
            "each member handles its inputs one after another, and a message's handling starts when both the sender's step that sent it and the receiver's previous step are done " +
            "(the time to rekey with no network delay and one CPU per member; not the sponsor's own work, nor any one member's total). " +
            "The paper's Figure 4 plots CPU time too. **total ms** = CPU time of all members together. " +
            "`CONCLAVE_KX_DEBUG=1` prints each event's chain step by step (member, message, CPU µs, exponentiations). " +
            "Times include Ed25519 signing and verification of every message, HKDF, and (MODP) subgroup checks of received elements. " +
            "GDH and CKD grow one join at a time and shrink one leave (a middle member) at a time; TGDH is measured on a dealt balanced tree of each size (a join: n − 1 settled members and a member that was alone; a leave: the middle member of n). " +
            "The machine is shared, so single timings are noisy; the counts are exact.");
        md.AppendLine();
        foreach (var byGroup in samples.GroupBy(s => s.Group))
        {
            md.AppendLine(F($"## {byGroup.Key}"));
            md.AppendLine();
            var protocols = byGroup.Select(s => s.Protocol).Distinct().ToList();
            foreach (string kind in new[] { "join", "leave" })
            {
                md.Append(F($"| {kind} n |"));
                foreach (KeyAgreementProtocol p in protocols)
                {
                    md.Append(F($" {p.ToString().ToUpperInvariant()} serial exp | serial ms | total ms |"));
                }

                md.AppendLine();
                md.Append("|---:|");
                md.AppendLine(string.Concat(Enumerable.Repeat("---:|---:|---:|", protocols.Count)));
                var sizes = byGroup.Where(s => s.Event == kind).Select(s => s.N).Distinct().Where(n => TableSizes.Contains(n) || n == byGroup.Max(s => s.N)).Order();
                foreach (int n in sizes)
                {
                    md.Append(F($"| {n} |"));
                    foreach (KeyAgreementProtocol p in protocols)
                    {
                        KxSample? s = byGroup.FirstOrDefault(x => x.Protocol == p && x.Event == kind && x.N == n);
                        md.Append(s is null ? " | | |" : F($" {s.SerialExps} | {s.SerialMs:F2} | {s.TotalMs:F2} |"));
                    }

                    md.AppendLine();
                }

                md.AppendLine();
            }

            foreach (string plot in plots.Where(p => p.Contains(byGroup.Key, StringComparison.Ordinal)))
            {
                md.AppendLine(F($"![{plot}](plots/{plot})"));
            }

            md.AppendLine();
        }

        md.AppendLine("## Exponentiation counts against the paper");
        md.AppendLine();
        md.AppendLine("![serial exponentiations](plots/kx-exponentiations.png)");
        md.AppendLine();
        md.AppendLine("Measured serial counts against the paper's Table 4 (details and the reasons for the differences in `docs/key-agreement.md` §Costs):");
        md.AppendLine();
        md.AppendLine("| event | paper | Conclave (measured, every n) |");
        md.AppendLine("|---|---|---|");
        md.AppendLine("| Cliques join | 3n | 2n |");
        md.AppendLine("| Cliques leave (any member, also the controller) | n | n − 1 |");
        md.AppendLine("| CKD join | n + 6 | n + 4 |");
        md.AppendLine("| CKD leave | n − 1 | n |");
        md.AppendLine("| CKD controller leave | 3n − 5 | 2n + 1 |");
        md.AppendLine();
        md.AppendLine(KeepBegin);
        md.AppendLine(Kept(previous) ?? "## Primitives (BenchmarkDotNet)\n\n_Not yet measured: run `dotnet run -c Release --project bench/Conclave.Benchmarks -- --filter '*Primitive*'` and paste the summary here._");
        md.AppendLine(KeepEnd);
        return md.ToString();
    }

    private static string? Kept(string? previous)
    {
        if (previous is null)
        {
            return null;
        }

        int begin = previous.IndexOf(KeepBegin, StringComparison.Ordinal);
        int end = previous.IndexOf(KeepEnd, StringComparison.Ordinal);
        return begin < 0 || end < begin ? null : previous[(begin + KeepBegin.Length)..end].Trim('\n');
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
