using Xunit.Abstractions;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>
/// Three real `conclave daemon` processes in three network namespaces on one segment whose address is
/// an IP multicast group: ring broadcasts (Joins, data, MergeDetect) go only to the group, so the ring
/// forms and the members hear each other only if multicast works; tokens stay unicast. Needs root and
/// iproute2 (CI has both); anywhere else it reports itself skipped.
/// </summary>
public sealed class MulticastSegmentProcessTests(ITestOutputHelper output) : IDisposable
{
    private const string Group = "239.192.77.1:4803";
    private const int MessagesPerSender = 150;
    private readonly string _dir = Directory.CreateTempSubdirectory("conclave-mcast-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public async Task Three_daemons_on_a_multicast_segment_give_their_members_one_agreed_order()
    {
        string? unavailable = NetnsLab.Unavailable();
        Skip.If(unavailable is not null, unavailable);

        string conf = RingTestConfiguration.Netns(_dir, Group);
        using NetnsLab lab = NetnsLab.Create(3);
        var daemons = new List<RingDaemonProcess>();
        var members = new List<LoadedMember>();
        try
        {
            for (int i = 1; i <= 3; i++)
            {
                daemons.Add(await RingDaemonProcess.StartInNamespaceAsync(lab.Node(i), RingDaemonProcess.FreeTcpPort(), conf, $"d{i}", NetnsLab.Address(i), Path.Combine(_dir, $"state-d{i}")));
            }

            await Task.WhenAll(daemons.Select(d => d.WaitForRegularAsync("d1", "d2", "d3")));
            foreach (RingDaemonProcess daemon in daemons)
            {
                Assert.Contains(daemon.Lines(), l => l.Contains($"Ring broadcasts to multicast group {Group} on {daemon.Address}", StringComparison.Ordinal));
            }

            string[] users = ["alice", "bob", "carol"];
            for (int i = 0; i < 3; i++)
            {
                members.Add(await LoadedMember.JoinAsync(daemons[i].UnixSpreadName, users[i], "g"));
            }

            string all = string.Join(",", members.Select(m => m.Name));
            await Task.WhenAll(members.Select(m => m.WaitUntilAsync(log => log.Any(e => e.IsView && e.Members == all), "the three-member view")));
            foreach (LoadedMember member in members)
            {
                member.StartSending();
            }

            await Task.WhenAll(members.Select(m => m.WaitUntilAsync(log => members.All(s => log.Count(e => e.Sender == s.Name) >= MessagesPerSender), $"{MessagesPerSender} messages from each member")));
            await Task.WhenAll(members.Select(m => m.StopSendingAsync()));
            await Task.WhenAll(members.Select(m => m.WaitUntilAsync(log => members.All(s => log.Any(e => e.Sender == s.Name && e.Number == s.Sent - 1)), "everyone's last message")));

            // One agreed order: from the three-member view on, everyone was delivered the same sequence,
            // holding every message of every sender once.
            List<string>[] delivered = [.. members.Select(m => FromView(m.Snapshot(), all))];
            for (int k = 1; k < 3; k++)
            {
                Assert.Equal(delivered[0], delivered[k]);
            }

            foreach (LoadedMember sender in members)
            {
                int[] numbers = [.. members[0].Snapshot().Where(e => e.Sender == sender.Name).Select(e => e.Number)];
                Assert.Equal(Enumerable.Range(0, sender.Sent), numbers);
            }

            output.WriteLine($"sent: {string.Join(", ", members.Select(m => $"{m.Name} {m.Sent}"))}; {delivered[0].Count} entries delivered to each in one order");
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

    private static List<string> FromView(List<LoadedMember.Entry> log, string members) =>
        [.. log.Skip(log.FindIndex(e => e.IsView && e.Members == members)).Select(e => e.ToString())];
}
