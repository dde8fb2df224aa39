namespace Conclave.Daemon.Tests.Secure;

/// <summary>The churn tests' accounting of which last messages view synchrony owes a member, on made-up histories.</summary>
public sealed class ViewSynchronyOwedTests
{
    private const string A = "#a#d1";
    private const string B = "#b#d2";
    private const string Text = "#b#d2:9";
    private const string All = "1.1.1 Network [#a#d1,#b#d2] vs [#a#d1]";

    // B delivered its message (log entry 2) in view 1.1.1, which it installed before log entry 0.
    private static readonly List<string> SenderLog = ["view e [#a#d1,#b#d2]", "#b#d2: #b#d2:8", $"{B}: {Text}"];

    [Fact]
    public void A_member_still_in_the_senders_view_is_owed_the_message()
    {
        Assert.Null(Excuse([$"@0 flush view {All}"], [$"@0 flush view {All}"]));
    }

    [Fact]
    public void A_member_that_moved_on_with_the_sender_is_owed_the_message()
    {
        string[] trace = [$"@0 flush view {All}", "@5 flush view 1.2.1 Network [#a#d1,#b#d2,#c#d3] vs [#a#d1,#b#d2]"];
        Assert.Null(Excuse(trace, [$"@0 flush view {All}", "@3 flush view 1.2.1 Network [#a#d1,#b#d2,#c#d3] vs [#a#d1,#b#d2]"]));
        Assert.Null(Excuse([$"@0 flush view {All}", "@5 flush view 1.3.1 Leave [#a#d1,#b#d2] vs [#c#d3]"], [$"@0 flush view {All}"]));
    }

    [Fact]
    public void A_member_whose_next_view_the_sender_did_not_come_along_to_may_lack_it()
    {
        // A partition (even a brief one from token loss): A's next view holds B, but B came from another component.
        string? excuse = Excuse([$"@0 flush view {All}", "@5 flush view 1.4.1 Network [#a#d1] vs [#a#d1]"], [$"@0 flush view {All}"]);
        Assert.Contains("did not come along", excuse, StringComparison.Ordinal);
        Assert.NotNull(Excuse([$"@0 flush view {All}", "@5 flush view 1.5.1 Network [#a#d1,#b#d2] vs [#a#d1]"], [$"@0 flush view {All}"]));
    }

    [Fact]
    public void A_member_outside_the_view_of_the_message_may_lack_it()
    {
        string? excuse = Excuse([$"@0 flush view {All}"], ["@0 flush view 1.6.1 Network [#b#d2] vs [#b#d2]"]);
        Assert.Contains("without #a#d1", excuse, StringComparison.Ordinal);
    }

    [Fact]
    public void A_member_that_has_not_installed_the_view_yet_is_owed_it_but_one_that_skipped_it_is_not()
    {
        string[] sender = ["@0 flush view 1.7.1 Join [#b#d2] vs [#b#d2]", $"@1 flush view {All}", "@3 flush view 1.8.1 Network [#a#d1,#b#d2] vs [#a#d1,#b#d2]"];
        List<string> log = ["view e [#b#d2]", "view f [#a#d1,#b#d2]", $"{B}: {Text}", "view g [#a#d1,#b#d2]"];
        Assert.Null(ViewSynchronyOwed.Excuse(A, ["@0 flush view 1.7.1 Join [#b#d2] vs [#b#d2]"], B, log, [.. sender], Text));
        Assert.NotNull(ViewSynchronyOwed.Excuse(A, ["@0 flush view 1.8.1 Network [#a#d1,#b#d2] vs [#a#d1,#b#d2]"], B, log, [.. sender], Text));
    }

    [Fact]
    public void Nothing_is_excused_before_the_sender_delivered_its_message_itself()
    {
        Assert.Null(ViewSynchronyOwed.Excuse(A, ["@0 flush view 1.9.1 Network [#a#d1] vs [#a#d1]"], B, ["view e [#a#d1,#b#d2]"], [$"@0 flush view {All}"], Text));
    }

    private static string? Excuse(string[] memberTrace, string[] senderTrace) =>
        ViewSynchronyOwed.Excuse(A, [.. memberTrace], B, SenderLog, [.. senderTrace], Text);
}
