using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using System.Threading.Channels;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>A real `conclave daemon` process in a ring; its log lines can be awaited.</summary>
internal sealed partial class RingDaemonProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly Queue<string> _recent = new();
    private readonly List<string> _all = [];

    /// <summary>Every line the daemon has written so far.</summary>
    public IReadOnlyList<string> Lines()
    {
        lock (_all)
        {
            return [.. _all];
        }
    }

    private RingDaemonProcess(Process process, string name)
    {
        _process = process;
        Name = name;
        _ = PumpAsync(process.StandardOutput);
        _ = PumpAsync(process.StandardError);
    }

    public string Name { get; }

    public int ClientPort { get; private set; }

    public string SpreadName => $"{ClientPort}@{Address}";

    public string Address { get; private set; } = "";

    public static Task<RingDaemonProcess> StartAsync(string conf, string name, string address, string stateDir, params string[] extra) =>
        StartAsync([], ["--port", "0", "--no-unix-socket"], conf, name, address, stateDir, extra);

    /// <summary>
    /// Starts the daemon inside network namespace <paramref name="netns"/>; clients reach it through
    /// the Unix socket /tmp/<paramref name="port"/> (<see cref="UnixSpreadName"/>), which the file
    /// system shares across namespaces.
    /// </summary>
    public static Task<RingDaemonProcess> StartInNamespaceAsync(string netns, int port, string conf, string name, string address, string stateDir, params string[] extra) =>
        StartAsync(["ip", "netns", "exec", netns], ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], conf, name, address, stateDir, extra);

    /// <summary>The Spread name of the daemon's Unix socket (its client port).</summary>
    public string UnixSpreadName => ClientPort.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<RingDaemonProcess> StartAsync(string[] prefix, string[] portArguments, string conf, string name, string address, string stateDir, string[] extra)
    {
        string[] command = [.. prefix, "dotnet", Path.Combine(AppContext.BaseDirectory, "conclave.dll"), "daemon", "-c", conf, "-n", name, .. portArguments, "--state-dir", stateDir, .. ClientSessions.HandshakeArguments, .. extra];
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        var daemon = new RingDaemonProcess(Process.Start(start)!, name) { Address = address };
        Match listening = await daemon.WaitForAsync(new Regex($@"listening on {Regex.Escape(address)}:(\d+)"));
        daemon.ClientPort = int.Parse(listening.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return daemon;
    }

    /// <summary>Reads log lines until one matches; fails after the patience runs out.</summary>
    public async Task<Match> WaitForAsync(Regex pattern)
    {
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        while (true)
        {
            string line;
            try
            {
                line = await _lines.Reader.ReadAsync(timeout.Token);
            }
            catch (ChannelClosedException)
            {
                throw new InvalidOperationException($"daemon {Name} exited before logging /{pattern}/; last lines:\n{string.Join("\n", _recent)}");
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"daemon {Name} did not log /{pattern}/ within {ClientSessions.Patience.TotalSeconds} s; last lines:\n{string.Join("\n", _recent)}");
            }

            _recent.Enqueue(line);
            if (_recent.Count > 8)
            {
                _recent.Dequeue();
            }

            Match match = pattern.Match(line);
            if (match.Success)
            {
                return match;
            }
        }
    }

    /// <summary>Waits for a regular configuration of exactly these daemons.</summary>
    public Task<Match> WaitForRegularAsync(params string[] daemons) =>
        WaitForAsync(new Regex($"configuration regular [0-9.]+: {Regex.Escape(string.Join(", ", daemons))}$"));

    private async Task PumpAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            _lines.Writer.TryWrite(line);
            lock (_all)
            {
                _all.Add(line);
            }
        }

        _lines.Writer.TryComplete();
    }

    /// <summary>kill -9.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    /// <summary>A UDP port free on every loopback address (the daemons share it on 127.0.0.1/.2/.3).</summary>
    public static int FreeUdpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Any, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>A TCP port nothing listens on right now (for a daemon's client port or a metrics endpoint).</summary>
    public static int FreeTcpPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
