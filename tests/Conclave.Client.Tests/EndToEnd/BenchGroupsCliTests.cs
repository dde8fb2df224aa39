using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Conclave.Client.Tests.EndToEnd;

/// <summary>`conclave bench groups` as a process: a small run over its own three in-process daemons writes a complete report.</summary>
public sealed partial class BenchGroupsCliTests : IDisposable
{
    private readonly CancellationToken _hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;
    private readonly string _out = Directory.CreateTempSubdirectory("conclave-bench-groups-test-").FullName;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    [Fact]
    public async Task A_small_run_measures_every_mode_and_writes_tables_plots_and_throughput()
    {
        var start = new ProcessStartInfo("dotnet", $"{Path.Combine(AppContext.BaseDirectory, "conclave.dll")} bench groups --max 3 --rounds 1 --throughput-members 3 --messages 100 --throughput-rounds 1 --warm-up-seconds 0 --jit-quiet-ms 0 --timeline --out {_out}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(_hangGuard);
        Task<string> errors = process.StandardError.ReadToEndAsync(_hangGuard);
        try
        {
            await process.WaitForExitAsync(_hangGuard);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(process.ExitCode == 0, await errors);
        string report = await File.ReadAllTextAsync(Path.Combine(_out, "benchmarks-groups.md"));

        // Join and leave rows for n = 2 and 3 in both the elapsed and the CPU tables: a number for each of the five modes.
        Assert.Equal(8, NumberRow().Matches(report).Count(m => m.Groups[1].Value is "2" or "3"));
        Assert.Contains("| secure GDH ms |", report, StringComparison.Ordinal);
        Assert.Contains("| secure TGDH CPU ms |", report, StringComparison.Ordinal);
        foreach (string mode in new[] { "plain", "flush", "secure GDH", "secure CKD", "secure TGDH" })
        {
            Assert.Matches($@"\| {mode} \| [0-9]+ \| [0-9.]+ \| [0-9.]+ \|", report);
        }

        foreach (string plot in new[] { "groups-join.png", "groups-leave.png", "groups-join-cpu.png", "groups-leave-cpu.png" })
        {
            Assert.True(new FileInfo(Path.Combine(_out, "plots", plot)).Length > 1000, plot);
        }

        Assert.Contains("throughput secure GDH:", await output, StringComparison.Ordinal);

        // --timeline: the measured join at the largest size, member by member; in a GDH join of 3 every member receives
        // a key agreement message, and the controller and the joiner each compute one.
        Match timeline = Assert.Single(TimelineLine().Matches(await errors), m => m.Groups[1].Value == "secure GDH join");
        Assert.Equal(3, MemberEntry().Count(timeline.Value));
        Assert.Equal(3, Regex.Count(timeline.Value, " ka="));
        Assert.Equal(2, Regex.Count(timeline.Value, " computed="));
    }

    [GeneratedRegex(@"^timeline round 1/1 (.+) n=3 \(jit [0-9]+ methods, gc [0-9]+/[0-9]+/[0-9]+ \(gen0/1/2\)\):.*$", RegexOptions.Multiline)]
    private static partial Regex TimelineLine();

    [GeneratedRegex(@" m[0-9]+ spread=[0-9.]+ flush=[0-9.]+")]
    private static partial Regex MemberEntry();

    [GeneratedRegex(@"^\| ([0-9]+) \|( [0-9]+\.[0-9] \|){5}$", RegexOptions.Multiline)]
    private static partial Regex NumberRow();
}
