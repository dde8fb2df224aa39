using Conclave.Client;
using Conclave.Client.Secure;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Xunit.Abstractions;

namespace Conclave.Daemon.Tests.Secure;

/// <summary>
/// Secure members (1, 1, 3 over three in-process daemons) that all send all the time, with timed key refreshes,
/// through partitions (one daemon, the other one, all three apart) and heals: every key ever installed is one key
/// for one membership, every sealed message delivered is opened, each member gets back every message it sent, in
/// order, the three that never part deliver the same history, and a message is delivered only in a view that
/// holds its sender.
/// </summary>
public sealed class SecureChurnTests(ITestOutputHelper output)
{
    private const string Group = "schurn";

    [Theory]
    [InlineData(KeyAgreementProtocol.Gdh, false)]
    [InlineData(KeyAgreementProtocol.Ckd, true)]
    [InlineData(KeyAgreementProtocol.Tgdh, false)]
    public Task Members_sending_all_along_through_partitions_heals_and_refreshes_stay_consistent(KeyAgreementProtocol protocol, bool signed) =>
        RunAsync(output, protocol, signed, async (ring, byDaemon, all) =>
        {
            int[][][] phases =
            [
                [[1], [2, 3]],
                [[1, 2, 3]],
                [[1, 2], [3]],
                [[1, 2, 3]],
                [[1], [2], [3]],
                [[1, 2, 3]],
            ];
            foreach (int[][] phase in phases)
            {
                string what = string.Join(" | ", phase.Select(c => string.Join(",", c.Select(d => $"d{d}"))));
                ring.Partition(phase);
                SecureMember[][] components = [.. phase.Select(c => byDaemon(c))];
                await SecureConvergence.OneKeyPerComponentAsync(what, components);
                // Progress in each component: every member hears every other after its latest view.
                await SecureConvergence.UntilAsync(() => components.All(c => c.All(m => HeardAllSinceLastView(m, c))), all, $"traffic within {what}");
            }
        });

    /// <summary>The part of a member's log from its first view that holds every one of <paramref name="all"/>.</summary>
    private static List<string> FromFirstViewOfAll(List<string> log, SecureMember[] all)
    {
        int first = log.FindIndex(l => l.StartsWith("view ", StringComparison.Ordinal) && all.All(m => l.Contains(m.Name, StringComparison.Ordinal)));
        Assert.True(first >= 0, "no view with all five members in the log");
        return log[first..];
    }

    /// <summary>
    /// Starts the ring and five members (1, 1, 3) that send all along with 400 ms refreshes, lets
    /// <paramref name="drive"/> change the network (it must end healed, with traffic among all), then stops the
    /// senders and checks the whole history.
    /// </summary>
    internal static async Task RunAsync(ITestOutputHelper output, KeyAgreementProtocol protocol, bool signed, Func<PartitionableRing, Func<int[], SecureMember[]>, SecureMember[], Task> drive)
    {
        await using PartitionableRing ring = PartitionableRing.Start(3);
        await ring.WaitForComponentsAsync([1, 2, 3]);
        using var timeout = new CancellationTokenSource(ClientSessions.Patience * 4);
        string[] names = ["m1", "m2", "m3", "m4", "m5"];
        int[] daemonOf = [1, 2, 3, 3, 3];
        MemberIdentity[] identities = [.. names.Select(_ => MemberIdentity.Generate())];
        var directory = new MemberDirectory();
        for (int i = 0; i < names.Length; i++)
        {
            directory.Add($"#{names[i]}#d{daemonOf[i]}", identities[i].PublicKey);
        }

        var members = new List<SecureMember>();
        using var stopSending = new CancellationTokenSource();
        var senders = new List<Task<int>>();
        try
        {
            for (int i = 0; i < names.Length; i++)
            {
                var options = new SecureGroupOptions
                {
                    Protocol = protocol,
                    Identity = identities[i],
                    Directory = directory,
                    SignMessages = signed,
                    RefreshInterval = TimeSpan.FromMilliseconds(400),
                };
                members.Add(await SecureMember.JoinAsync($"{ring.ClientEndpoint(daemonOf[i] - 1).Port}@127.0.0.1", names[i], Group, options, timeout.Token));
            }

            SecureMember[] all = [.. members];
            SecureMember[] byDaemon(params int[] daemons) => [.. all.Where((_, i) => daemons.Contains(daemonOf[i]))];
            await SecureConvergence.OneKeyPerComponentAsync("five members keyed", all);
            senders.AddRange(all.Select(m => Task.Run(() => SendAllAlongAsync(m, stopSending.Token))));

            await drive(ring, d => byDaemon(d), all);
            await stopSending.CancelAsync();
            int[] sent = await Task.WhenAll(senders);
            senders.Clear();
            // Every sender's last message at every member view synchrony owes it to (ViewSynchronyOwed: not one whose
            // next view the sender did not come along to; a brief partition from token loss under load does that, and
            // the view change says so). Nothing sent can still arrive before it, so the histories are final up to there.
            // (Key refreshes go on: views may follow.)
            string[] lastMessages = [.. all.Select((m, k) => Text(m.Name, sent[k] - 1))];
            SecureMember[] onD3 = byDaemon(3);
            try
            {
                await SecureConvergence.UntilAsync(
                    () => all.All(m => all.Select((s, k) => m.Texts.Contains(lastMessages[k]) || !ViewSynchronyOwed.IsOwed(m, s, lastMessages[k])).All(x => x)),
                    all,
                    "every sender's last message at every member it is owed to");
            }
            catch (TimeoutException e)
            {
                // Which last messages are missing where, with what each member refused: a message lost or refused shows here.
                string missing = string.Join("; ", all.Select(m => $"{m.Name} lacks [{string.Join(",", all.Select((s, k) => (s, k)).Where(x => !m.Texts.Contains(lastMessages[x.k])).Select(x => $"{lastMessages[x.k]} ({ViewSynchronyOwed.Excuse(m, x.s, lastMessages[x.k]) ?? "owed"})"))}], forged {m.Counters.Forged}, other epoch {m.Counters.OtherEpoch} (last: {m.Connection.CoreOf(m.Group)?.LastOtherEpoch ?? "none"}), replays {m.Counters.Replays}, flush drops: {m.Connection.FlushDrops}"));
                string detail = string.Join("\n", all.Select(m =>
                {
                    List<string> log = m.Log;
                    // Each sender's highest message here, where in the log, and under which secure view.
                    string highest = string.Join(" ", all.Select(s =>
                    {
                        int at = log.FindLastIndex(l => l.StartsWith($"{s.Name}: ", StringComparison.Ordinal));
                        int viewAt = at < 0 ? -1 : log.FindLastIndex(at, l => l.StartsWith("view ", StringComparison.Ordinal));
                        return at < 0 ? $"{s.Name}<=none" : $"{s.Name}<={log[at][(log[at].LastIndexOf(':') + 1)..]}@#{at}(view #{viewAt} {(viewAt < 0 ? "" : log[viewAt][5..log[viewAt].IndexOf(' ', 5)])})";
                    }));
                    int lastView = log.FindLastIndex(l => l.StartsWith("view ", StringComparison.Ordinal));
                    string views = string.Join(" / ", log.Select((l, i) => (l, i)).Where(x => x.l.StartsWith("view ", StringComparison.Ordinal)).TakeLast(6).Select(x => $"#{x.i} {x.l}"));
                    return $"DIAG {m.Name}: texts {m.Texts.Count} captured {m.CapturedCount} log {log.Count} highest {highest}; lastViewAt {lastView}; views {views}; tail [{string.Join(" | ", log.TakeLast(12))}]; flush events [{string.Join(" | ", m.FlushTrace.TakeLast(10))}]";
                }));
                // Where the daemons stand (ring configuration and group members): a later reconfiguration shows here.
                string daemons = string.Join("\n", ring.Daemons.Select(d => $"DAEMON {d.Statistics.Ring} {GroupDrops(d.Statistics)} groups {string.Join(";", d.StatusReport().Groups.Select(g => g.Name + ":" + string.Join(",", g.Members)))}"));
                throw new TimeoutException($"{e.Message}\nsent {string.Join(", ", sent)}; {missing}\n{detail}\n{daemons}", e);
            }

            string[] excused = [.. all.SelectMany(m => all.Select((s, k) => m.Texts.Contains(lastMessages[k]) ? null : ViewSynchronyOwed.Excuse(m, s, lastMessages[k])).OfType<string>())];
            output.WriteLine($"{protocol}: last messages missing as view synchrony allows: {(excused.Length == 0 ? "none" : string.Join("; ", excused))}");
            output.WriteLine($"{protocol}: sent {string.Join(", ", sent)}; views {string.Join(", ", all.Select(m => m.ViewCount))}; keys installed {string.Join(", ", all.Select(m => m.Counters.KeysInstalled))}; runs {string.Join(", ", all.Select(m => m.Counters.RunsStarted))}; stale key agreement messages {string.Join(", ", all.Select(m => m.Counters.KeyAgreementStale))}; flush drops {string.Join("; ", all.Select(m => m.Connection.FlushDrops))}; daemons {string.Join("; ", ring.Daemons.Select(d => GroupDrops(d.Statistics)))}");
            AssertOneKeyPerEpoch(all);
            for (int k = 0; k < all.Length; k++)
            {
                SecureGroupCounters c = all[k].Counters;
                Assert.True(c.Forged + c.OtherEpoch + c.Replays + c.BadSignature + c.KeyAgreementRejected == 0,
                    $"{all[k].Name}: forged {c.Forged}, other epoch {c.OtherEpoch}, replays {c.Replays}, bad signature {c.BadSignature}, key agreement rejected {c.KeyAgreementRejected}; last other-epoch: {all[k].Connection.CoreOf(all[k].Group)?.LastOtherEpoch ?? "none"}; views (epoch, size, events, key):\n{Views(all)}");
                List<string> log = all[k].Log;
                AssertSendersInView(all[k].Name, log);
                foreach (SecureMember sender in all)
                {
                    int[] numbers = [.. log.Where(l => l.StartsWith($"{sender.Name}: ", StringComparison.Ordinal)).Select(l => int.Parse(l[(l.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture))];
                    Assert.True(numbers.Zip(numbers.Skip(1)).All(p => p.First < p.Second), $"{all[k].Name} got {sender.Name}'s messages out of order or twice");
                    if (sender == all[k])
                    {
                        Assert.Equal(Enumerable.Range(0, sent[k]), numbers);
                    }
                }
            }

            // d3's three members were never apart: one history from the first view with all five (before it, one of
            // them may have been keyed in a view the later joiners never saw).
            // The logs are read while the members still receive (the timed refreshes go on), so one may already hold
            // a refresh's view that another has yet to deliver: each history must be the start of the longest one.
            // All hold every last message, so they are equal up to the last message; only later views may be missing.
            List<string>[] d3Histories = [.. onD3.Select(m => FromFirstViewOfAll(m.Log, all))];
            List<string> longest = d3Histories.MaxBy(h => h.Count)!;
            for (int k = 0; k < onD3.Length; k++)
            {
                Assert.Equal(longest[..d3Histories[k].Count], d3Histories[k]);
                Assert.All(longest[d3Histories[k].Count..], l => Assert.StartsWith("view ", l, StringComparison.Ordinal));
            }
        }
        finally
        {
            await stopSending.CancelAsync();
            foreach (Task<int> sender in senders)
            {
                await ((Task)sender).ContinueWith(_ => { }, TaskScheduler.Default); // Ends each sender; a failure was reported above.
            }
            foreach (SecureMember m in members)
            {
                await m.DisposeAsync();
            }
        }
    }

    /// <summary>What a daemon's group layer dropped (diagnostics: a loss there shows here).</summary>
    internal static string GroupDrops(DaemonStatistics s) =>
        $"group messages dropped {s.GroupMessagesDropped} (during exchange {s.RequestsDuringExchange}{(s.LastRequestDuringExchange is string last ? $", last: {last}" : "")}), data for gone sessions {s.DataForGoneSessions}";

    private static string Text(string sender, int number) => $"{sender}:{number}";

    /// <summary>Sends numbered messages until stopped (each waits for a key when the group is keying); returns how many went out.</summary>
    private static async Task<int> SendAllAlongAsync(SecureMember member, CancellationToken stop)
    {
        int sent = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await member.SendAsync(Text(member.Name, sent), stop);
            }
            catch (OperationCanceledException)
            {
                break; // Stopped while waiting for a key: that message never went out.
            }

            sent++;
            await Task.Delay(10, CancellationToken.None); // Pacing, not synchronisation.
        }

        return sent;
    }

    internal static bool HeardAllSinceLastView(SecureMember member, SecureMember[] component)
    {
        List<string> log = member.Log;
        int view = log.FindLastIndex(l => l.StartsWith("view ", StringComparison.Ordinal));
        return view >= 0 && component.All(s => log.Skip(view + 1).Any(l => l.StartsWith($"{s.Name}: ", StringComparison.Ordinal)));
    }

    /// <summary>Every message is delivered in a view that holds its sender.</summary>
    private static void AssertSendersInView(string member, List<string> log)
    {
        string[] view = [];
        foreach (string line in log)
        {
            if (line.StartsWith("view ", StringComparison.Ordinal))
            {
                view = line[(line.IndexOf('[') + 1)..^1].Split(',');
            }
            else
            {
                string sender = line[..line.IndexOf(": ", StringComparison.Ordinal)];
                Assert.True(view.Contains(sender), $"{member} delivered {line} in a view without its sender: [{string.Join(",", view)}]");
            }
        }
    }

    private static string Views(IEnumerable<SecureMember> members) =>
        string.Join("\n", members.Select(m => $"{m.Name}: {string.Join(" / ", m.Views.Select(v => $"{v.Epoch} {v.Members.Count} {string.Join("+", v.Events)} {Convert.ToHexString([.. v.KeyFingerprint])[..6]}"))}"));

    /// <summary>
    /// Across every member and every view: one key per epoch and membership, and different keys for different ones.
    /// (Two components apart at the same time may carry the same epoch label: the secure view id is the group id's
    /// ring time and index, without its representative; their memberships, and so their keys, differ.)
    /// </summary>
    private static void AssertOneKeyPerEpoch(IEnumerable<SecureMember> members)
    {
        var keys = new Dictionary<(string Epoch, string Members), string>();
        foreach (SecureMember m in members)
        {
            foreach (SecureView v in m.Views)
            {
                (string, string) epoch = (v.Epoch, string.Join(",", v.Members));
                string key = Convert.ToHexString([.. v.KeyFingerprint]);
                if (keys.TryGetValue(epoch, out string? first))
                {
                    Assert.True(first == key, $"epoch {epoch}: key {first} at one member, {key} at {m.Name}; views: {Views(members)}");
                }
                else
                {
                    keys[epoch] = key;
                }
            }
        }

        Assert.Equal(keys.Count, keys.Values.Distinct().Count());
    }
}
