using System.Diagnostics;
using System.Text.Json;
using Conclave.Client;
using Conclave.Daemon.Status;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>`conclave monitor` against a live two-daemon ring's status sockets.</summary>
public sealed class MonitorTests
{
    [Fact]
    public async Task Monitor_shows_each_daemons_ring_links_and_groups()
    {
        await using InProcessRing ring = InProcessRing.Start(2);
        await ring.WaitForRegularAsync("d1", "d2");
        await using GroupConnection alice = await GroupConnection.ConnectAsync(ring.SpreadName(0), "alice", true);
        await using GroupConnection bob = await GroupConnection.ConnectAsync(ring.SpreadName(1), "bob", true);
        await alice.JoinAsync("g");
        await bob.JoinAsync("g");
        foreach (GroupConnection member in new[] { alice, bob })
        {
            using var timeout = new CancellationTokenSource(ClientSessions.Patience);
            while (!(await member.ReceiveAsync(timeout.Token) is MembershipMessage view && view.Members.Count == 2))
            {
            }
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ring.StatusSocket(0)));
        }

        // The monitor reads the daemons one after the other. On a loaded machine the ring can re-form in between (a
        // token lost while a daemon was starved; seen once: d1 read in ring 1:8, d2 in 1:12), and each report then
        // names the ring its daemon was in when read. Then wait until both daemons are in one ring again and read
        // again: daemons that stayed in different rings would still fail (the wait times out).
        DaemonStatusReport[] reports;
        int code;
        for (int attempt = 1; ; attempt++)
        {
            (code, string json) = await RunAsync("monitor", "--json", ring.StatusSocket(0), ring.StatusSocket(1));
            Assert.Equal(0, code);
            reports = JsonSerializer.Deserialize(json, StatusJson.Default.DaemonStatusReportArray)!;
            if (reports.Select(r => r.Statistics.Ring?.RingId).Distinct().Count() == 1 || attempt == 5)
            {
                break;
            }

            await ring.WaitUntilAsync(
                s => s.State == "Operational" && s.Members.SequenceEqual(["d1", "d2"]) && ring.Daemons.All(d => d.Statistics.Ring?.RingId == s.RingId),
                "both daemons in one ring again");
        }

        Assert.Equal(["d1", "d2"], reports.Select(r => r.Name));
        foreach (DaemonStatusReport report in reports)
        {
            DaemonRingStatus status = report.Statistics.Ring!;
            Assert.Equal("Operational", status.State);
            Assert.Equal(["d1", "d2"], status.Members);
            Assert.True(status.Sealed);
            Assert.Equal(reports[0].Statistics.Ring!.RingId, status.RingId);
            DaemonGroupStatus group = Assert.Single(report.Groups);
            Assert.Equal("g", group.Name);
            Assert.Equal(["#alice#d1", "#bob#d2"], group.Members);
        }

        (code, string text) = await RunAsync("monitor", ring.StatusSocket(0));
        Assert.Equal(0, code);
        Assert.Contains("daemon d1:", text, StringComparison.Ordinal);
        Assert.Contains("Operational", text, StringComparison.Ordinal);
        Assert.Contains("dropped 0: forged 0, replayed 0", text, StringComparison.Ordinal);
        Assert.Contains("group g: #alice#d1, #bob#d2", text, StringComparison.Ordinal);

        (code, _) = await RunAsync("monitor", ring.StatusSocket(0) + ".missing");
        Assert.Equal(1, code);
    }

    private static async Task<(int Code, string Output)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "conclave.dll"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> errors = process.StandardError.ReadToEndAsync();
        string output = await process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        await process.WaitForExitAsync(timeout.Token);
        await errors;
        return (process.ExitCode, output);
    }
}
