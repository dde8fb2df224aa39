using Conclave.Client.Secure;
using Conclave.Client.Secure.Internal;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Xunit.Abstractions;

namespace Conclave.Daemon.Tests.Secure;

/// <summary>
/// Secure members over three in-process daemons (1, 1 and 3 members, as the paper's 1, 1, n − 2) whose ring links
/// are partitioned and healed by UDP relays, for each key agreement module: each side of a partition converges to
/// its own key, which the other side cannot use on what it captured; the heal converges to one key (Merge); a
/// partition and a merge in one network change is one key (Leave then Merge); a join landing inside the key
/// agreement run of a partition still converges.
/// </summary>
public sealed class SecurePartitionTests(ITestOutputHelper output)
{
    private const string Group = "spart";

    [Theory]
    [InlineData(KeyAgreementProtocol.Gdh)]
    [InlineData(KeyAgreementProtocol.Ckd)]
    [InlineData(KeyAgreementProtocol.Tgdh)]
    public async Task Partitions_and_merges_converge_to_one_key_per_component(KeyAgreementProtocol protocol)
    {
        await using PartitionableRing ring = PartitionableRing.Start(3);
        await ring.WaitForComponentsAsync([1, 2, 3]);
        using var timeout = new CancellationTokenSource(ClientSessions.Patience * 4);
        var directory = new MemberDirectory();
        string[] names = ["m1", "m2", "m3", "m4", "m5", "m6"];
        int[] daemonOf = [1, 2, 3, 3, 3, 3];
        MemberIdentity[] identities = [.. names.Select(_ => MemberIdentity.Generate())];
        for (int i = 0; i < names.Length; i++)
        {
            directory.Add($"#{names[i]}#d{daemonOf[i]}", identities[i].PublicKey);
        }

        var members = new List<SecureMember>();
        // Armed, the hook stops the first member of d2 or d3 that starts a key agreement run right there, until released.
        int armed = 0;
        using var stopped = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var hook = new KeyAgreementStartHook(() =>
        {
            if (Interlocked.Exchange(ref armed, 0) == 1)
            {
                stopped.Set();
                release.Wait(ClientSessions.Patience);
            }
        });
        SecureGroupOptions Options(int i) => new() { Protocol = protocol, Identity = identities[i], Directory = directory, LoggerFactory = daemonOf[i] == 1 ? null : hook };
        async Task<SecureMember> Connect(int i)
        {
            string spreadName = $"{ring.ClientEndpoint(daemonOf[i] - 1).Port}@127.0.0.1";
            SecureMember member = await SecureMember.ConnectAsync(spreadName, names[i], Group, timeout.Token);
            members.Add(member);
            return member;
        }

        try
        {
            for (int i = 0; i < 5; i++)
            {
                await (await Connect(i)).JoinAsync(Options(i), timeout.Token);
            }

            SecureMember m1 = members[0], m2 = members[1];
            SecureMember[] onD3 = [.. members.Skip(2)];
            SecureMember[] all = [.. members];
            await SecureConvergence.OneKeyPerComponentAsync("five members keyed", all);
            SecureView full = m1.LastView!;

            // 1. d1 partitioned away: m1 alone, the four others, each side its own key (Leave).
            int[] marks = Marks(all);
            int captureMark = onD3[0].CapturedCount;
            ring.Partition([1], [2, 3]);
            SecureMember[] big = [m2, .. onD3];
            await SecureConvergence.OneKeyPerComponentAsync("the partition {d1} | {d2,d3}", [m1], big);
            AssertEvents(all, marks, SecureKeyEvent.Leave);
            Assert.NotEqual(full.KeyFingerprint, big[0].LastView!.KeyFingerprint);
            Assert.NotEqual(m1.LastView!.KeyFingerprint, big[0].LastView!.KeyFingerprint);

            await m2.SendAsync("SECRET-OF-THE-FOUR", timeout.Token);
            await m1.SendAsync("SECRET-OF-M1-ALONE", timeout.Token);
            await SecureConvergence.DeliveredAsync(big, "SECRET-OF-THE-FOUR");
            await SecureConvergence.DeliveredAsync([m1], "SECRET-OF-M1-ALONE");
            List<byte[]> heard = onD3[0].CapturedSince(captureMark);
            byte[] sealedByM2 = Assert.Single(heard);
            Assert.True(SecureConvergence.TryOpen(onD3[0].CurrentCipher!, sealedByM2, Group, m2.Name), "the four's key opens their message");
            // m1 receives nothing now, so its key may be used from here.
            Assert.False(SecureConvergence.TryOpen(m1.CurrentCipher!, sealedByM2, Group, m2.Name), "m1, cut off, opened what the other side sent");
            Assert.True(SealedFormat.TryReadHeader(sealedByM2, out SealedFormat.Header header));
            Assert.Equal(big[0].LastView!.Epoch, header.Epoch.ToString());
            Assert.NotEqual(full.Epoch, header.Epoch.ToString());

            // 2. Heal: one key for all five (Merge), new against both sides' keys.
            marks = Marks(all);
            IReadOnlyList<byte>[] sideKeys = [m1.LastView!.KeyFingerprint, m2.LastView!.KeyFingerprint];
            ring.Heal();
            await SecureConvergence.OneKeyPerComponentAsync("the merge of all five", all);
            AssertEvents(all, marks, SecureKeyEvent.Merge);
            Assert.DoesNotContain(sideKeys, k => k.SequenceEqual(m1.LastView!.KeyFingerprint));
            await m1.SendAsync("AFTER-THE-MERGE", timeout.Token);
            await SecureConvergence.DeliveredAsync(all, "AFTER-THE-MERGE");

            // 3. {d1,d2} | {d3}, then {d1} | {d2,d3} in one network change: m2 loses m1 and gains the three in one view.
            ring.Partition([1, 2], [3]);
            await SecureConvergence.OneKeyPerComponentAsync("the partition {d1,d2} | {d3}", [m1, m2], onD3);
            marks = Marks(all);
            ring.Partition([1], [2, 3]);
            await SecureConvergence.OneKeyPerComponentAsync("the partition {d1} | {d2,d3} after {d1,d2} | {d3}", [m1], big);
            List<SecureView> m2Views = m2.ViewsSince(marks[1]);
            output.WriteLine($"{protocol}: m2's views through the change: {string.Join(" / ", m2Views.Select(v => $"[{string.Join(",", v.Members)}] {string.Join("+", v.Events)}"))}");
            Assert.Equal([SecureKeyEvent.Leave, SecureKeyEvent.Merge], m2Views[^1].Events);
            Assert.Equal([m1.Name], m2Views[^1].Left);
            Assert.Equal(onD3.Select(m => m.Name).Order(), m2Views[^1].Joined.Order());
            ring.Heal();
            await SecureConvergence.OneKeyPerComponentAsync("the merge of all five, again", all);

            // 4. A cascade: a join at d3 while the big side runs key agreement for the partition. The first member of
            // the big side to start its run is stopped right there (before its first step, so it cannot finish);
            // m6, connected beforehand, joins; once d3 has ordered the join, the stopped member goes on.
            SecureMember m6 = await Connect(5);
            marks = Marks(all);
            long[] runs = [.. big.Select(m => m.Counters.RunsStarted)], keys = [.. big.Select(m => m.Counters.KeysInstalled)];
            Volatile.Write(ref armed, 1);
            ring.Partition([1], [2, 3]);
            Assert.True(stopped.Wait(ClientSessions.Patience), "no member of the big side started a key agreement run");
            string atJoin;
            bool someoneInRun;
            try
            {
                await m6.JoinAsync(Options(5), timeout.Token);
                await Poll(() => ring.Daemons[2].StatusReport().Groups.Any(g => g.Name == Group && g.Members.Contains(m6.Name)));
                atJoin = string.Join(", ", big.Select((m, k) => $"{m.Name} runs +{m.Counters.RunsStarted - runs[k]} keys +{m.Counters.KeysInstalled - keys[k]}"));
                someoneInRun = big.Where((m, k) => m.Counters.RunsStarted > runs[k] && m.Counters.KeysInstalled == keys[k]).Any();
            }
            finally
            {
                release.Set();
            }

            Assert.True(someoneInRun, $"no member was inside the partition's key agreement run when the join was ordered: {atJoin}");
            SecureMember[] bigger = [.. big, m6];
            await SecureConvergence.OneKeyPerComponentAsync("the partition with m6 joining during its key agreement", [m1], bigger);
            output.WriteLine($"{protocol}: when d3 ordered the join: {atJoin}; views since: {string.Join("; ", big.Select((m, k) => $"{m.Name} " + string.Join(" / ", m.ViewsSince(marks[k + 1]).Select(v => $"[{v.Members.Count}] {string.Join("+", v.Events)}"))))}");
            ring.Heal();
            SecureMember[] six = [.. members];
            await SecureConvergence.OneKeyPerComponentAsync("the merge of all six", six);
            await m6.SendAsync("LAST-OF-SIX", timeout.Token);
            await SecureConvergence.DeliveredAsync(six, "LAST-OF-SIX");

            // Nothing was refused anywhere: no message under an old key, no forgery, no replay, no bad key agreement message.
            foreach (SecureMember m in six)
            {
                SecureGroupCounters c = m.Counters;
                Assert.True(c.Forged + c.OtherEpoch + c.Replays + c.BadSignature + c.KeyAgreementRejected == 0,
                    $"{m.Name}: forged {c.Forged}, other epoch {c.OtherEpoch}, replays {c.Replays}, bad signature {c.BadSignature}, key agreement rejected {c.KeyAgreementRejected}");
            }

            Assert.DoesNotContain("SECRET-OF-THE-FOUR", m1.Texts);
            Assert.All(big, m => Assert.DoesNotContain("SECRET-OF-M1-ALONE", m.Texts));
        }
        finally
        {
            foreach (SecureMember m in members)
            {
                await m.DisposeAsync();
            }
        }
    }

    /// <summary>Polls a condition the layers expose no event for; the condition is the synchronisation.</summary>
    private static async Task Poll(Func<bool> condition)
    {
        using var patience = new CancellationTokenSource(ClientSessions.Patience);
        while (!condition())
        {
            await Task.Delay(1, patience.Token);
        }
    }

    private static int[] Marks(IEnumerable<SecureMember> members) => [.. members.Select(m => m.ViewCount)];

    /// <summary>Every member's last view since its mark reports exactly <paramref name="events"/>.</summary>
    private static void AssertEvents(SecureMember[] members, int[] marks, params SecureKeyEvent[] events)
    {
        for (int i = 0; i < members.Length; i++)
        {
            List<SecureView> views = members[i].ViewsSince(marks[i]);
            Assert.True(views.Count > 0, $"{members[i].Name} got no new view");
            Assert.True(views[^1].Events.SequenceEqual(events), $"{members[i].Name}: events {string.Join("+", views[^1].Events)}, expected {string.Join("+", events)}");
        }
    }
}
