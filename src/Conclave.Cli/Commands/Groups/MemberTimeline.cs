using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Conclave.Cli.Commands.Groups;

/// <summary>
/// One membership change member by member (`bench groups --timeline`): when each member got the Spread view, installed
/// the Flush view, received the first key agreement message and computed its own, in ms from the change's start. The
/// per-phase table shows only the last member of each step; this shows whether members went one after another.
/// </summary>
internal static class MemberTimeline
{
    /// <summary>One line: the change, then each member (bench index) with its milestones, ordered by when it received the first key agreement message (or installed the Flush view).</summary>
    public static string Describe(string change, IReadOnlyList<BenchMember> members, long start, int size)
    {
        var rows = members.Select((m, index) => (
                Index: index,
                Spread: Mark(m, KeyingLog.SpreadViewReceived, start, size),
                Flush: Mark(m, KeyingLog.FlushViewInstalled, start, size),
                FirstKeyAgreement: Mark(m, KeyingLog.FirstKeyAgreementMessage, start, size),
                Computed: Mark(m, KeyingLog.KeyAgreementSent, start, size)))
            .OrderBy(r => r.FirstKeyAgreement ?? r.Flush ?? double.MaxValue)
            .ToList();
        var line = new StringBuilder(change).Append(':');
        foreach (var r in rows)
        {
            line.Append(CultureInfo.InvariantCulture, $" m{r.Index}");
            Append(line, "spread", r.Spread);
            Append(line, "flush", r.Flush);
            Append(line, "ka", r.FirstKeyAgreement);
            Append(line, "computed", r.Computed);
        }

        return line.ToString();
    }

    private static double? Mark(BenchMember member, int eventId, long start, int size) =>
        member.Keying.FirstSince(eventId, start, size) is long at ? Stopwatch.GetElapsedTime(start, at).TotalMilliseconds : null;

    private static void Append(StringBuilder line, string name, double? ms)
    {
        if (ms is double value)
        {
            line.Append(CultureInfo.InvariantCulture, $" {name}={value:F2}");
        }
    }
}
