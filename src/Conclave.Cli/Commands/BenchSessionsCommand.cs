using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Conclave.Client;

namespace Conclave.Cli.Commands;

/// <summary>
/// `conclave bench sessions`: starts a `conclave daemon` process, connects N clients that each join
/// their own group, and reports the daemon's resident memory before and after (from /proc).
/// </summary>
internal static partial class BenchSessionsCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var clients = new Option<int>("--clients") { Description = "Client sessions to connect.", DefaultValueFactory = _ => 1000 };
        var groups = new Option<int>("--groups") { Description = "Distinct groups (client i joins group i mod groups).", DefaultValueFactory = _ => 1000 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("sessions", "RSS of a daemon process with many connected clients in many groups.") { clients, groups, json };
        command.SetAction(async (parse, cancellation) =>
        {
            int count = parse.GetValue(clients);
            int groupCount = Math.Max(1, parse.GetValue(groups));
            SessionsResult result = await RunAsync(count, groupCount, cancellation);
            Console.WriteLine(parse.GetValue(json)
                ? JsonSerializer.Serialize(result, Indented)
                : $"daemon RSS: {result.IdleRssMegabytes:F1} MB idle, {result.LoadedRssMegabytes:F1} MB with {result.Clients} clients in {result.Groups} groups ({result.KilobytesPerClient:F1} KB per client)");
            return 0;
        });
        return command;
    }

    internal sealed record SessionsResult(int Clients, int Groups, double IdleRssMegabytes, double LoadedRssMegabytes, double KilobytesPerClient);

    private static async Task<SessionsResult> RunAsync(int count, int groupCount, CancellationToken cancellation)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet")
        {
            start.ArgumentList.Add(typeof(BenchSessionsCommand).Assembly.Location);
        }

        foreach (string argument in new[] { "daemon", "--port", "0", "--no-unix-socket", "--log-level", "Information" })
        {
            start.ArgumentList.Add(argument);
        }

        using Process daemon = Process.Start(start)!;
        try
        {
            int port = await ReadPortAsync(daemon, cancellation);
            double idle = RssMegabytes(daemon.Id);
            var sessions = new List<GroupConnection>(count);
            try
            {
                for (int i = 0; i < count; i++)
                {
                    GroupConnection session = await GroupConnection.ConnectAsync($"{port}@127.0.0.1", $"m{i}", groupMembership: true, cancellation);
                    sessions.Add(session);
                    await session.JoinAsync($"group-{i % groupCount}", cancellation);
                }

                // Every session's own join view proves the daemon has applied its join.
                foreach (GroupConnection session in sessions)
                {
                    while (await session.ReceiveAsync(cancellation) is not MembershipMessage { ChangedMember: var changed } || changed != session.PrivateGroup)
                    {
                    }
                }

                double loaded = RssMegabytes(daemon.Id);
                return new SessionsResult(count, groupCount, idle, loaded, (loaded - idle) * 1024 / count);
            }
            finally
            {
                foreach (GroupConnection session in sessions)
                {
                    session.Abort();
                }
            }
        }
        finally
        {
            daemon.Kill(entireProcessTree: true);
            await daemon.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static async Task<int> ReadPortAsync(Process daemon, CancellationToken cancellation)
    {
        while (await daemon.StandardOutput.ReadLineAsync(cancellation) is { } line)
        {
            Match match = ListeningLine().Match(line);
            if (match.Success)
            {
                _ = daemon.StandardOutput.ReadToEndAsync(CancellationToken.None); // keep the pipe drained
                return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("the daemon exited before listening: " + await daemon.StandardError.ReadToEndAsync(cancellation));
    }

    private static double RssMegabytes(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
            }
        }

        throw new InvalidOperationException($"no VmRSS for process {pid}");
    }

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();
}
