using System.Diagnostics;
using System.Text.RegularExpressions;
using Conclave.Client;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Tests;

/// <summary>The real `conclave daemon` process, started as a user would.</summary>
public sealed partial class DaemonProcessTests
{
    private sealed class DaemonProcess : IAsyncDisposable
    {
        private readonly Process _process;

        private DaemonProcess(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static async Task<DaemonProcess> StartAsync(params string[] arguments)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "conclave.dll"));
            start.ArgumentList.Add("daemon");
            foreach (string argument in ClientSessions.HandshakeArguments.Concat(arguments))
            {
                start.ArgumentList.Add(argument);
            }

            Process process = Process.Start(start)!;
            using var timeout = new CancellationTokenSource(ClientSessions.Patience);
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                Match listening = ListeningLine().Match(line);
                if (listening.Success)
                {
                    return new DaemonProcess(process, int.Parse(listening.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            string error = await process.StandardError.ReadToEndAsync(timeout.Token);
            throw new InvalidOperationException($"the daemon exited ({process.ExitCode}) without listening: {error}");
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();

    [Fact]
    public async Task The_daemon_process_serves_clients_over_tcp()
    {
        await using DaemonProcess daemon = await DaemonProcess.StartAsync("--port", "0", "--no-unix-socket");
        await using GroupConnection alice = await GroupConnection.ConnectAsync($"{daemon.Port}@127.0.0.1", "alice", true);

        await alice.JoinAsync("g");
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        Assert.IsType<MembershipMessage>(await alice.ReceiveAsync(timeout.Token));
        await alice.MulticastAsync(ServiceType.Safe, "g", 5, new byte[] { 1 });
        DataMessage echo = Assert.IsType<DataMessage>(await alice.ReceiveAsync(timeout.Token));

        Assert.Equal("#alice#localhost", echo.Sender);
    }

    [Fact]
    public async Task The_daemon_process_takes_its_name_and_address_from_a_spread_conf()
    {
        string conf = Path.Combine(Path.GetTempPath(), $"conclave-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(conf, """
            # one daemon on loopback
            MaxSessionMessages = 500
            Spread_Segment 127.0.0.255:4803 {
                solo 127.0.0.1 { D 127.0.0.1  C 127.0.0.1 }
            }
            """);
        try
        {
            await using DaemonProcess daemon = await DaemonProcess.StartAsync("-c", conf, "--port", "0", "--no-unix-socket");
            await using GroupConnection bob = await GroupConnection.ConnectAsync($"{daemon.Port}@127.0.0.1", "bob", true);

            Assert.Equal("#bob#solo", bob.PrivateGroup);
        }
        finally
        {
            File.Delete(conf);
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("3601")]
    public async Task A_handshake_timeout_outside_its_range_stops_the_daemon(string seconds)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "conclave.dll"), "daemon", "--port", "0", "--no-unix-socket", "--handshake-timeout", seconds })
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        string error = await process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(2, process.ExitCode);
        Assert.Contains($"--handshake-timeout {seconds} is outside (0, 3600] seconds", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_spread_conf_stops_the_daemon_with_the_line_at_fault()
    {
        string conf = Path.Combine(Path.GetTempPath(), $"conclave-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(conf, "Spread_Segment 127.0.0.255:4803 {\n  solo 127.0.0.300\n}\n");
        try
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "conclave.dll"), "daemon", "-c", conf })
            {
                start.ArgumentList.Add(a);
            }

            using Process process = Process.Start(start)!;
            string error = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();

            Assert.Equal(2, process.ExitCode);
            Assert.Contains(":2: '127.0.0.300' is not a dotted IPv4 address", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(conf);
        }
    }
}
