using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Conclave.Daemon;
using Conclave.Daemon.Status;

namespace Conclave.Cli.Commands;

/// <summary>
/// `conclave monitor [--json] [SOCKET...]`: reads each daemon's status from its status socket
/// (`conclave daemon --status-socket PATH`) and prints ring, links and groups.
/// </summary>
internal static class MonitorCommand
{
    public static Command Create()
    {
        var sockets = new Argument<string[]>("socket") { Description = "Status sockets of the daemons to show (default: /tmp/4803.status).", Arity = ArgumentArity.ZeroOrMore };
        var json = new Option<bool>("--json") { Description = "Print a JSON array of the daemons' status documents." };
        var command = new Command("monitor", "Show each daemon's ring id, state, members, retransmissions, dropped packets, groups and members.")
        {
            sockets, json,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            string[] paths = parse.GetValue(sockets) is { Length: > 0 } given ? given : ["/tmp/4803.status"];
            var reports = new List<DaemonStatusReport>();
            int failures = 0;
            foreach (string path in paths)
            {
                try
                {
                    reports.Add(await ReadAsync(path, cancellation));
                }
                catch (Exception ex) when (ex is SocketException or IOException or JsonException)
                {
                    await Console.Error.WriteLineAsync($"conclave monitor: {path}: {ex.Message}");
                    failures++;
                }
            }

            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize([.. reports], StatusJson.Default.DaemonStatusReportArray));
            }
            else
            {
                foreach (DaemonStatusReport report in reports)
                {
                    Console.Write(Format(report));
                }
            }

            return failures == 0 ? 0 : 1;
        });
        return command;
    }

    /// <summary>Connects to one status socket and reads its JSON document to the end.</summary>
    public static async Task<DaemonStatusReport> ReadAsync(string path, CancellationToken cancellation)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        return await JsonSerializer.DeserializeAsync(stream, StatusJson.Default.DaemonStatusReport, timeout.Token)
            ?? throw new JsonException("empty status document");
    }

    /// <summary>The human-readable form of one daemon's status.</summary>
    public static string Format(DaemonStatusReport report)
    {
        var text = new StringBuilder();
        CultureInfo inv = CultureInfo.InvariantCulture;
        DaemonStatistics s = report.Statistics;
        text.AppendLine(inv, $"daemon {report.Name}: {s.Sessions} sessions, {s.Groups} groups, frames in {s.FramesIn} out {s.FramesOut}");
        if (s.Ring is { } r)
        {
            text.AppendLine(inv, $"  ring {r.RingId} {r.State}, node {r.NodeId}, members {string.Join(", ", r.Members)}, links {(r.Sealed ? "AES-256-GCM" : "PLAINTEXT")}");
            text.AppendLine(inv, $"  packets sent {r.PacketsSent} received {r.PacketsReceived}, retransmitted {r.Retransmitted}, token rotations {r.TokenVisits}, token retransmits {r.TokenRetransmits}, delivered {r.MessagesDelivered}, backlog {r.Backlog}");
            text.AppendLine(inv, $"  split frames sent {r.SplitFramesSent} joined {r.SplitFramesJoined} incomplete {r.SplitFramesIncomplete}");
            text.AppendLine(inv, $"  dropped {r.DroppedTotal}: forged {r.DroppedForged}, replayed {r.DroppedReplayed}, other cluster {r.DroppedOtherCluster}, unsealed {r.DroppedUnsealed}, malformed {r.DroppedMalformed}, strangers {r.DroppedStrangers}; bad ring packets {r.MalformedRingPackets}, fragments dropped {r.FragmentsDropped}");
        }
        else
        {
            text.AppendLine("  no ring (one daemon)");
        }

        foreach (DaemonGroupStatus group in report.Groups)
        {
            text.AppendLine(inv, $"  group {group.Name}: {string.Join(", ", group.Members)}");
        }

        return text.ToString();
    }
}
