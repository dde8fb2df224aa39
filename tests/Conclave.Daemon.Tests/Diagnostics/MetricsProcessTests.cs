using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Conclave.Client;
using Conclave.Daemon.Tests.Ring;

namespace Conclave.Daemon.Tests.Diagnostics;

/// <summary>`conclave daemon --metrics URL --log-format json` as a process: JSON log lines and a Prometheus scrape.</summary>
public sealed partial class MetricsProcessTests
{
    [GeneratedRegex(@"listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningOn();

    [Fact]
    public async Task The_daemon_logs_json_lines_and_serves_prometheus_text()
    {
        int metricsPort = RingDaemonProcess.FreeTcpPort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { Path.Combine(AppContext.BaseDirectory, "conclave.dll"), "daemon", "--port", "0", "--no-unix-socket", "--log-format", "json", "--log-level", "debug", "--metrics", $"http://127.0.0.1:{metricsPort}/metrics" }.Concat(ClientSessions.HandshakeArguments))
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        try
        {
            using var timeout = new CancellationTokenSource(ClientSessions.Patience);
            int port = 0;
            bool metricsLogged = false;
            while (port == 0 && await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                using JsonDocument entry = JsonDocument.Parse(line); // every line is one JSON object
                JsonElement root = entry.RootElement;
                if (root.GetProperty("EventId").GetInt32() == 2000)
                {
                    Assert.Equal("Conclave.Cli", root.GetProperty("Category").GetString());
                    metricsLogged = true;
                    continue;
                }

                Assert.Equal("Conclave.Daemon", root.GetProperty("Category").GetString());
                Assert.True(root.TryGetProperty("Timestamp", out _));
                if (root.GetProperty("EventId").GetInt32() == 100 && ListeningOn().Match(root.GetProperty("Message").GetString()!) is { Success: true } m)
                {
                    Assert.Equal("Information", root.GetProperty("LogLevel").GetString());
                    Assert.Equal("localhost", root.GetProperty("State").GetProperty("Name").GetString());
                    port = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                }
            }

            Assert.NotEqual(0, port);
            Assert.True(metricsLogged, "the exporter logs its URL before the daemon listens");
            await using GroupConnection alice = await GroupConnection.ConnectAsync($"{port}@127.0.0.1", "alice", true);
            await alice.JoinAsync("g");
            Assert.IsType<MembershipMessage>(await alice.ReceiveAsync(timeout.Token));
            string debugLine = (await process.StandardOutput.ReadLineAsync(timeout.Token))!;
            Assert.Contains("\"LogLevel\":\"Debug\"", debugLine, StringComparison.Ordinal); // session connected, at --log-level debug

            using var http = new HttpClient();
            string text = "";
            while (!text.Contains("conclave_groups_members{otel_scope_name=\"Conclave.Daemon\",otel_scope_conclave_daemon=\"localhost\"} 1", StringComparison.Ordinal))
            {
                await Task.Delay(20, timeout.Token); // A polling interval; the condition is the synchronisation.
                text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{metricsPort}/metrics"), timeout.Token);
            }

            Assert.Contains("# TYPE conclave_sessions_active gauge", text, StringComparison.Ordinal);
            Assert.Matches(@"conclave_sessions_active\{[^}]*\} 1\b", text);
            Assert.Matches(@"conclave_sessions_accepted_total\{[^}]*\} 1\b", text);
            Assert.Matches(@"conclave_sessions_frames_total\{[^}]*conclave_frame_direction=""in""\} 1\b", text);
            Assert.Matches(@"conclave_groups_membership_messages_total\{[^}]*\} 1\b", text);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task A_metrics_url_that_is_not_http_is_refused_before_starting()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { Path.Combine(AppContext.BaseDirectory, "conclave.dll"), "daemon", "--port", "0", "--no-unix-socket", "--metrics", "ftp://x/metrics" })
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        string error = await process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("--metrics 'ftp://x/metrics' must be an http URL", error, StringComparison.Ordinal);
    }
}
