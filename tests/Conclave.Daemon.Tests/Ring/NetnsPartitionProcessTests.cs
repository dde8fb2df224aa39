using System.Diagnostics;
using Xunit.Abstractions;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>
/// Three real `conclave daemon` processes in three network namespaces, a client on each sending
/// AGREED messages all along, and d3's link cut and restored five times (its bridge port down/up:
/// UDP lost both ways). Needs root and iproute2 (CI has both); anywhere else it reports itself skipped.
/// </summary>
public sealed class NetnsPartitionProcessTests(ITestOutputHelper output) : IDisposable
{
    private const int Cycles = 5;
    private const int DataPerPhase = 12;
    private readonly string _dir = Directory.CreateTempSubdirectory("conclave-netns-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string TraceOf(int i) => Path.Combine(_dir, $"trace-d{i}.jsonl");

    [SkippableFact]
    public async Task Five_cuts_of_one_daemons_link_under_load_keep_one_agreed_order_among_the_daemons_that_stay_together()
    {
        string? unavailable = NetnsLab.Unavailable();
        Skip.If(unavailable is not null, unavailable);

        string conf = RingTestConfiguration.Netns(_dir);
        using NetnsLab lab = NetnsLab.Create(3);
        var daemons = new List<RingDaemonProcess>();
        var members = new List<LoadedMember>();
        try
        {
            for (int i = 1; i <= 3; i++)
            {
                daemons.Add(await RingDaemonProcess.StartInNamespaceAsync(lab.Node(i), RingDaemonProcess.FreeTcpPort(), conf, $"d{i}", NetnsLab.Address(i), Path.Combine(_dir, $"state-d{i}"), "--trace", TraceOf(i)));
            }

            await Task.WhenAll(daemons.Select(d => d.WaitForRegularAsync("d1", "d2", "d3")));
            string[] users = ["alice", "bob", "carol"];
            for (int i = 0; i < 3; i++)
            {
                members.Add(await LoadedMember.JoinAsync(daemons[i].UnixSpreadName, users[i], "g"));
            }

            string all = string.Join(",", members.Select(m => m.Name));
            string together = $"{members[0].Name},{members[1].Name}";
            LoadedMember carol = members[2];
            await Task.WhenAll(members.Select(m => m.WaitUntilAsync(log => log.Any(e => e.IsView && e.Members == all), "the three-member view")));
            foreach (LoadedMember member in members)
            {
                member.StartSending();
            }

            await AllDeliverDataAfterAsync(members, all);
            for (int cycle = 1; cycle <= Cycles; cycle++)
            {
                var clock = Stopwatch.StartNew();
                int[] marks = [.. members.Select(m => m.Snapshot().Count)];
                lab.Cut(3);

                // The survivors: TRANSITION_MESS, then CAUSED_BY_NETWORK without carol, whose vs-set is the two of them.
                await Task.WhenAll(members[0..2].Select((m, k) => m.WaitUntilAsync(log => NetworkViewAfter(log, marks[k], together) >= 0, $"cut {cycle}: network view {together}")));
                await carol.WaitUntilAsync(log => NetworkViewAfter(log, marks[2], carol.Name) >= 0, $"cut {cycle}: network view of carol alone");
                TimeSpan cut = clock.Elapsed;
                for (int k = 0; k < 3; k++)
                {
                    AssertNextViewAfter(members[k], marks[k], k < 2 ? together : carol.Name, expectTransitional: true, $"cut {cycle}");
                }

                await AllDeliverDataAfterAsync(members[0..2], together);
                await AllDeliverDataAfterAsync([carol], carol.Name);

                clock.Restart();
                marks = [.. members.Select(m => m.Snapshot().Count)];
                lab.Restore(3);
                await Task.WhenAll(members.Select((m, k) => m.WaitUntilAsync(log => NetworkViewAfter(log, marks[k], all) >= 0, $"restore {cycle}: merged view")));
                for (int k = 0; k < 3; k++)
                {
                    AssertNextViewAfter(members[k], marks[k], all, expectTransitional: false, $"restore {cycle}");
                }

                output.WriteLine($"cycle {cycle}: cut -> both sides' network views {cut.TotalMilliseconds:F0} ms, restore -> merged view {clock.Elapsed.TotalMilliseconds:F0} ms");
                await AllDeliverDataAfterAsync(members, all);
            }

            await Task.WhenAll(members.Select(m => m.StopSendingAsync()));
            // Everyone's last message reached everyone (all three are together at the end).
            await Task.WhenAll(members.Select(m => m.WaitUntilAsync(log => members.All(s => log.Any(e => e.Sender == s.Name && e.Number == s.Sent - 1)), "everyone's last message")));

            List<LoadedMember.Entry>[] logs = [.. members.Select(m => m.Snapshot())];
            if (Environment.GetEnvironmentVariable("CONCLAVE_NETNS_DUMP") is { } dump)
            {
                for (int k = 0; k < 3; k++)
                {
                    File.WriteAllLines(Path.Combine(dump, $"{users[k]}.log"), logs[k].Select(e => $"{e} {e.ViewId}"));
                    File.WriteAllLines(Path.Combine(dump, $"d{k + 1}.log"), daemons[k].Lines());
                    File.Copy(TraceOf(k + 1), Path.Combine(dump, $"trace-d{k + 1}.jsonl"), overwrite: true);
                }
            }

            // alice and bob were never apart: from the three-member view on, the same deliveries, signals
            // and views in the same order.
            List<string> alice = FromFirstView(logs[0], all), bob = FromFirstView(logs[1], all);
            Assert.True(alice.SequenceEqual(bob), $"alice and bob were delivered different sequences\n{Diff(alice, bob)}");
            for (int k = 0; k < 3; k++)
            {
                foreach (LoadedMember sender in members)
                {
                    int[] numbers = [.. logs[k].Where(e => e.Sender == sender.Name).Select(e => e.Number)];
                    // No duplicate, no reordering, from anyone.
                    Assert.True(numbers.Zip(numbers.Skip(1)).All(p => p.First < p.Second), $"{members[k].Name} got {sender.Name}'s messages out of order or twice");
                    if (members[k] == sender)
                    {
                        // Nothing lost to oneself.
                        Assert.Equal(Enumerable.Range(0, sender.Sent), numbers);
                    }
                    else if (k < 2 && members.IndexOf(sender) < 2)
                    {
                        // Nothing lost between the two that stayed together.
                        Assert.Equal(Enumerable.Range(0, sender.Sent), numbers);
                    }
                }
            }

            output.WriteLine($"sent: {string.Join(", ", members.Select(m => $"{m.Name} {m.Sent}"))}; delivered to alice {logs[0].Count(e => e.Kind == "data")}, carol {logs[2].Count(e => e.Kind == "data")}");

            // The daemons' own traces pass the EVS checker.
            string[] traces = [TraceOf(1), TraceOf(2), TraceOf(3)];
            await RingTraces.WaitForLastSendDeliveredAsync(traces);
            IReadOnlyList<Protocol.Tracing.Violation> violations = RingTraces.CheckHealed(traces, out int events);
            output.WriteLine($"{events} trace events checked");
            Assert.True(violations.Count == 0, string.Join("\n", violations.Take(20)));
        }
        finally
        {
            foreach (LoadedMember member in members)
            {
                await member.DisposeAsync();
            }

            foreach (RingDaemonProcess daemon in daemons)
            {
                await daemon.DisposeAsync();
            }
        }
    }

    private static List<string> FromFirstView(List<LoadedMember.Entry> log, string members) =>
        [.. log.Skip(log.FindIndex(e => e.IsView && e.Members == members)).Select(e => e.ToString())];

    /// <summary>
    /// The first view <paramref name="member"/> got after entry <paramref name="from"/> is the network view
    /// of <paramref name="members"/> (no momentary configuration in between); its vs-set is who came with
    /// the member from the view before; when members departed, the transitional signal came between the
    /// two views (EVS lets messages of the transitional configuration follow it).
    /// </summary>
    private static void AssertNextViewAfter(LoadedMember member, int from, string members, bool expectTransitional, string step)
    {
        List<LoadedMember.Entry> log = member.Snapshot();
        int view = log.FindIndex(from, e => e.IsView);
        string history = string.Join(" | ", log.Skip(from).Where(e => e.IsView || e.Kind == "trans").Select(e => $"{e} {e.Members}"));
        Assert.True(view >= 0 && log[view].IsNetworkView(members), $"{step}: {member.Name}'s next view is not the network view {members}; since then: {history}");
        int previous = log.FindLastIndex(view - 1, e => e.IsView);
        string[] cameTogether = [.. log[previous].Members.Split(',').Intersect(log[view].Members.Split(','))];
        string vs = $"vs={string.Join(",", cameTogether)}";
        Assert.True(log[view].Detail.EndsWith(vs, StringComparison.Ordinal), $"{step}: {member.Name}'s view {log[view].Detail} should have {vs}; since then: {history}");
        bool transitional = log.GetRange(previous + 1, view - previous - 1).Any(e => e.Kind == "trans");
        Assert.True(transitional == expectTransitional, $"{step}: {member.Name} got {(transitional ? "a" : "no")} transitional signal before {members}; since then: {history}");
    }

    private static string Diff(List<string> x, List<string> y)
    {
        int at = Enumerable.Range(0, Math.Min(x.Count, y.Count)).FirstOrDefault(i => x[i] != y[i], Math.Min(x.Count, y.Count));
        return $"at {at}: {string.Join(" | ", x.Skip(at - 3).Take(8))}\n   vs: {string.Join(" | ", y.Skip(at - 3).Take(8))}";
    }

    /// <summary>Index of the first CAUSED_BY_NETWORK view of exactly <paramref name="members"/> at or after <paramref name="from"/>, or -1.</summary>
    private static int NetworkViewAfter(IReadOnlyList<LoadedMember.Entry> log, int from, string members)
    {
        for (int i = from; i < log.Count; i++)
        {
            if (log[i].IsNetworkView(members))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Waits until every member has been delivered some data from each of the others since its last view of <paramref name="view"/>.</summary>
    private static Task AllDeliverDataAfterAsync(IReadOnlyList<LoadedMember> members, string view) =>
        Task.WhenAll(members.Select(m => m.WaitUntilAsync(
            log =>
            {
                int at = -1;
                for (int i = log.Count - 1; i >= 0 && at < 0; i--)
                {
                    at = log[i].IsView && log[i].Members == view ? i : -1;
                }

                return at >= 0 && members.All(s => log.Skip(at).Count(e => e.Sender == s.Name) >= DataPerPhase);
            },
            $"{DataPerPhase} messages from each of {view}")));
}
