using System.Globalization;

namespace Conclave.Daemon.Tests.Secure;

/// <summary>
/// Which messages view synchrony owes a member: a message its sender delivered in Flush view F is owed to every member
/// of F that installed F and either is still in F or moved on to its next view together with the sender. A member that
/// never installed F, or whose next view the sender did not come along to (a partition, even a brief one from token
/// loss under load), may lack it: the view change says so. Read from the members' logs and Flush traces.
/// </summary>
internal static class ViewSynchronyOwed
{
    /// <summary>
    /// False if view synchrony lets <paramref name="member"/> lack <paramref name="sender"/>'s message
    /// <paramref name="text"/>; true if it is owed, or not yet decidable (the sender has not delivered it itself).
    /// </summary>
    public static bool IsOwed(SecureMember member, SecureMember sender, string text) => Excuse(member, sender, text) is null;

    /// <summary>Why <paramref name="member"/> may lack the message (null: it is owed).</summary>
    public static string? Excuse(SecureMember member, SecureMember sender, string text) =>
        Excuse(member.Name, member.FlushTrace, sender.Name, sender.Log, sender.FlushTrace, text);

    /// <summary>As <see cref="Excuse(SecureMember, SecureMember, string)"/>, from a member's Flush trace and the sender's log and trace.</summary>
    public static string? Excuse(string member, List<string> memberTrace, string sender, List<string> senderLog, List<string> senderTrace, string text)
    {
        int at = senderLog.IndexOf($"{sender}: {text}");
        List<FlushViewEntry> senderViews = Parse(senderTrace);
        int sentIn = senderViews.FindLastIndex(v => v.At <= at);
        if (at < 0 || sentIn < 0)
        {
            return null;
        }

        FlushViewEntry view = senderViews[sentIn];
        if (!view.Members.Contains(member))
        {
            return $"{text} was delivered in {view.Id} without {member}";
        }

        List<FlushViewEntry> memberViews = Parse(memberTrace);
        int installed = memberViews.FindIndex(v => v.Id == view.Id);
        if (installed < 0)
        {
            // Not installed (yet): skipped if the member has since installed a view the sender reached after it.
            FlushViewEntry? latest = memberViews.LastOrDefault();
            return latest is not null && senderViews.Skip(sentIn + 1).Any(v => v.Id == latest.Id)
                ? $"{member} never installed {view.Id}, where {text} was delivered"
                : null;
        }

        FlushViewEntry? next = memberViews.ElementAtOrDefault(installed + 1);
        return next is null || CameAlong(next, sender) ? null : $"{sender} did not come along to {member}'s next view {next.Id} after {view.Id}";
    }

    /// <summary>True if <paramref name="sender"/> moved into <paramref name="next"/> from the member's previous view with it.</summary>
    private static bool CameAlong(FlushViewEntry next, string sender) =>
        next.Members.Contains(sender) && (next.Cause != "Network" || next.VsSet.Contains(sender));

    /// <summary>The Flush views of a trace: "@AT flush view ID CAUSE [MEMBERS] vs [VS-SET]" (see SecureGroupCore.FlushTrace).</summary>
    private static List<FlushViewEntry> Parse(List<string> trace)
    {
        var views = new List<FlushViewEntry>();
        foreach (string line in trace)
        {
            string[] words = line.Split(' ', 6);
            if (words.Length < 6 || words[1] != "flush" || words[2] != "view")
            {
                continue;
            }

            int at = int.Parse(words[0][1..], CultureInfo.InvariantCulture);
            string rest = words[5];
            int vs = rest.IndexOf("] vs [", StringComparison.Ordinal);
            views.Add(new FlushViewEntry(at, words[3], words[4], Names(rest[1..vs]), Names(rest[(vs + 6)..^1])));
        }

        return views;
    }

    private static string[] Names(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries);

    private sealed record FlushViewEntry(int At, string Id, string Cause, string[] Members, string[] VsSet);
}
