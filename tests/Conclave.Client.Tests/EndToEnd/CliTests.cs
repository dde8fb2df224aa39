using System.Diagnostics;
using System.Text.Json;

namespace Conclave.Client.Tests.EndToEnd;

/// <summary>`conclave user` and `conclave flood` as processes against an in-process daemon.</summary>
public sealed class CliTests : IAsyncLifetime
{
    private readonly CancellationToken _hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;
    private InProcessDaemon _daemon = null!;

    public Task InitializeAsync()
    {
        _daemon = InProcessDaemon.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    private async Task<(int ExitCode, string Output, string Errors)> RunAsync(string arguments, string input)
    {
        var start = new ProcessStartInfo("dotnet", $"{Path.Combine(AppContext.BaseDirectory, "conclave.dll")} {arguments}")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(_hangGuard);
        Task<string> errors = process.StandardError.ReadToEndAsync(_hangGuard);
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync(_hangGuard);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output, await errors);
    }

    [Fact]
    public async Task User_joins_sends_receives_leaves_and_quits_from_a_script()
    {
        string script = "j g1\nr\ns g1 hello world\nr\nt agreed\nm g1 g2\nline one\nline two\n\nr\ns #u1#localhost direct\nr\nl g1\nr\nq\n";

        (int exit, string output, string errors) = await RunAsync($"user -u u1 -s {_daemon.TcpSpreadName} --manual", script);

        Assert.True(exit == 0, errors);
        Assert.Contains("connected to " + _daemon.TcpSpreadName + " with private group #u1#localhost", output, StringComparison.Ordinal);
        Assert.Contains("REGULAR membership for group g1 with 1 members, where I am member 0:", output, StringComparison.Ordinal);
        Assert.Contains("Due to the JOIN of #u1#localhost", output, StringComparison.Ordinal);
        Assert.Contains("vs-set 0 (mine): #u1#localhost", output, StringComparison.Ordinal);
        Assert.Contains("received SAFE message from #u1#localhost, type 1, 11 bytes, to g1: hello world", output, StringComparison.Ordinal);
        Assert.Contains("received AGREED message from #u1#localhost, type 1, 18 bytes, to g1 g2: line one\nline two", output, StringComparison.Ordinal);
        Assert.Contains("received AGREED message from #u1#localhost, type 1, 6 bytes, to #u1#localhost: direct", output, StringComparison.Ordinal);
        Assert.Contains("received SELF-LEAVE of group g1", output, StringComparison.Ordinal);
        Assert.EndsWith("Bye." + Environment.NewLine, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task User_reports_a_rejected_connection_with_its_code()
    {
        (int exit, _, string errors) = await RunAsync($"user -u a#b -s {_daemon.UnixSpreadName}", "q\n");

        Assert.Equal(1, exit);
        Assert.Contains("(-5)", errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, "agreed", 1, 1, 64)]
    [InlineData(true, "safe", 2, 2, 64)]
    [InlineData(true, "fifo", 1, 0, 64)]
    [InlineData(true, "reliable", 1, 0, 1)] // the ping-pong round-trip mode
    [InlineData(false, "causal", 1, 1, 1)]
    public async Task Flood_delivers_everything_and_reports_json(bool unix, string service, int senders, int receivers, int window)
    {
        (int exit, string output, string errors) = await RunAsync(
            $"flood -s {_daemon.SpreadName(unix)} -n 3000 -b 200 --service {service} --senders {senders} --receivers {receivers} --window {window} --json", string.Empty);

        Assert.True(exit == 0, errors);
        using JsonDocument result = JsonDocument.Parse(output);
        JsonElement root = result.RootElement;
        Assert.Equal(3000, root.GetProperty("messagesPerSender").GetInt32());
        Assert.Equal(service.ToUpperInvariant(), root.GetProperty("service").GetString());
        Assert.Equal(3000L * senders, root.GetProperty("roundTripSamples").GetInt64());
        Assert.True(root.GetProperty("messagesPerSecond").GetDouble() > 0);
        Assert.True(root.GetProperty("roundTripP50Microseconds").GetDouble() <= root.GetProperty("roundTripP99Microseconds").GetDouble());
    }

    [Fact]
    public async Task Flood_refuses_a_window_the_daemon_would_punish()
    {
        (int exit, _, string errors) = await RunAsync($"flood -s {_daemon.TcpSpreadName} --window 1000", string.Empty);

        Assert.Equal(2, exit);
        Assert.Contains("1,000", errors, StringComparison.Ordinal);
    }
}
