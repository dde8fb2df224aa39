using System.CommandLine;
using System.Net;
using Conclave.Cli.Diagnostics;
using Conclave.Daemon;
using Conclave.Daemon.Configuration;
using Microsoft.Extensions.Logging;

namespace Conclave.Cli.Commands;

/// <summary>`conclave daemon`: runs a daemon; with no configuration file, one daemon on 127.0.0.1:4803.</summary>
internal static class DaemonCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config", "-c") { Description = "A spread.conf file (Spread 4.4 format). Without it: one daemon 'localhost' on 127.0.0.1:4803." };
        var name = new Option<string?>("--name", "-n") { Description = "This daemon's name in the configuration (needed when the host runs several)." };
        var port = new Option<int?>("--port") { Description = "Client port (TCP, and the Unix socket /tmp/PORT); overrides the segment's port." };
        var listen = new Option<string[]>("--listen") { Description = "TCP address(es) to accept clients on; default: the daemon's client interfaces.", AllowMultipleArgumentsPerToken = true };
        var noUnix = new Option<bool>("--no-unix-socket") { Description = "Do not listen on the Unix socket /tmp/PORT." };
        var maxSessions = new Option<int>("--max-sessions") { Description = "Most concurrent client sessions.", DefaultValueFactory = _ => 16_384 };
        var handshakeTimeout = new Option<double>("--handshake-timeout") { Description = "Seconds a client has for each handshake phase (as Spread, 1 by default).", DefaultValueFactory = _ => 1 };
        var stateDir = new Option<DirectoryInfo?>("--state-dir") { Description = "Where the ring sequence and incarnation are kept; default: a directory per daemon name under the temp directory." };
        var trace = new Option<FileInfo?>("--trace") { Description = "Append the ring's trace events (docs/trace-format.md) to this file, for the EVS checker." };
        var statusSocket = new Option<FileInfo?>("--status-socket") { Description = "Serve this daemon's status to `conclave monitor` on this owner-only Unix socket (e.g. /tmp/4803.status)." };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Least severe log level printed: trace, debug, information, warning, error.", DefaultValueFactory = _ => LogLevel.Information };
        var logFormat = new Option<LogFormat>("--log-format") { Description = "Log lines as text or as JSON objects (one per line).", DefaultValueFactory = _ => LogFormat.Text };
        var metrics = new Option<string?>("--metrics") { Description = "Serve metrics as Prometheus text at this URL, e.g. http://127.0.0.1:9464/metrics (docs/operations.md)." };

        var command = new Command("daemon", "Run a Conclave daemon (Spread 4 client protocol).")
        {
            config, name, port, listen, noUnix, maxSessions, handshakeTimeout, stateDir, trace, statusSocket, logLevel, logFormat, metrics,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            using ILoggerFactory loggers = DaemonLogging.Create(parse.GetValue(logLevel), parse.GetValue(logFormat));
            DaemonOptions options;
            Uri? metricsUrl;
            try
            {
                metricsUrl = parse.GetValue(metrics) is { } url ? MetricsEndpoint.Parse(url) : null;
                double handshakeSeconds = parse.GetValue(handshakeTimeout);
                if (!(handshakeSeconds > 0 && handshakeSeconds <= 3600))
                {
                    throw new ArgumentException($"--handshake-timeout {handshakeSeconds} is outside (0, 3600] seconds");
                }

                FileInfo? file = parse.GetValue(config);
                SpreadConfiguration configuration = file is not null
                    ? SpreadConfigurationParser.ParseFile(file.FullName)
                    : SpreadConfiguration.Default;
                options = BuildOptions(configuration, parse.GetValue(name), parse.GetValue(port), parse.GetValue(listen) ?? [], parse.GetValue(noUnix), loggers)
                    with { MaxSessions = parse.GetValue(maxSessions), StatusSocketPath = parse.GetValue(statusSocket)?.FullName, HandshakeTimeout = TimeSpan.FromSeconds(handshakeSeconds) };
                if (configuration.Daemons.Count > 1)
                {
                    string state = parse.GetValue(stateDir)?.FullName ?? Path.Combine(Path.GetTempPath(), $"conclave-{options.Name}");
                    options = options with
                    {
                        Ring = RingConfiguration.Build(configuration, configuration.Find(options.Name)!, state, file?.DirectoryName) with
                        {
                            TracePath = parse.GetValue(trace)?.FullName,
                        },
                    };
                }

                options.Validate();
            }
            catch (Exception ex) when (ex is SpreadConfigurationException or ArgumentException or Conclave.Daemon.Network.ClusterKeyException)
            {
                await Console.Error.WriteLineAsync($"conclave daemon: {ex.Message}");
                return 2;
            }

            // The exporter listens before the daemon exists, so the first configuration is counted too.
            OpenTelemetry.Metrics.MeterProvider? exporter;
            try
            {
                exporter = metricsUrl is null ? null : MetricsEndpoint.Start(metricsUrl);
                if (metricsUrl is not null)
                {
                    CliLog.MetricsServed(loggers.CreateLogger("Conclave.Cli"), metricsUrl);
                }
            }
            catch (InvalidOperationException ex) when (ex.InnerException is HttpListenerException listener)
            {
                await Console.Error.WriteLineAsync($"conclave daemon: cannot serve metrics on {metricsUrl}: {listener.Message}");
                return 1;
            }

            using OpenTelemetry.Metrics.MeterProvider? metricsExporter = exporter;
            await using var daemon = new SpreadDaemon(options);
            try
            {
                daemon.Start();
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                await Console.Error.WriteLineAsync($"conclave daemon: cannot listen: {ex.Message}");
                return 1;
            }
            catch (InvalidOperationException ex) when (ex.InnerException is System.Net.Sockets.SocketException)
            {
                // The segment's multicast group could not be joined; the message says which and why.
                await Console.Error.WriteLineAsync($"conclave daemon: {ex.Message}");
                return 1;
            }
            catch (IOException ex)
            {
                await Console.Error.WriteLineAsync($"conclave daemon: cannot keep the ring state: {ex.Message}");
                return 1;
            }

            try
            {
                await Task.Delay(Timeout.Infinite, cancellation);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: dispose stops listening and closes every session.
            }

            return 0;
        });
        return command;
    }

    internal static DaemonOptions BuildOptions(SpreadConfiguration configuration, string? name, int? port, string[] listen, bool noUnix, ILoggerFactory loggers)
    {
        DaemonEntry self = SelectSelf(configuration, name);

        int clientPort = port ?? configuration.SegmentOf(self).Port;
        IEnumerable<IPAddress> addresses = listen.Length > 0 ? listen.Select(ParseListen) : self.ClientAddresses;
        return new DaemonOptions
        {
            Name = self.Name,
            ConfigurationOrder = [.. configuration.Daemons.Select(d => d.Name)],
            Address = self.Address,
            TcpEndpoints = [.. addresses.Select(a => new IPEndPoint(a, clientPort))],
            UnixSocketPath = noUnix ? null : $"/tmp/{clientPort}",
            MaxSessionMessages = configuration.MaxSessionMessages,
            LoggerFactory = loggers,
        };
    }

    private static IPAddress ParseListen(string text) =>
        IPAddress.TryParse(text, out IPAddress? address) ? address : throw new ArgumentException($"--listen '{text}' is not an IP address");

    private static DaemonEntry SelectSelf(SpreadConfiguration configuration, string? name) =>
        configuration.SelectSelf(name, out string? problem)
        ?? throw new ArgumentException(name is { Length: > 0 } ? problem : $"{problem}; name one with -n");
}
