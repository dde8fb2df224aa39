using Conclave.Client.Secure;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Conclave.Daemon.Tests.Ring;

namespace Conclave.Daemon.Tests.Secure;

/// <summary>
/// Secure members on three real `conclave daemon` processes in three network namespaces (1, 1 and 2 members,
/// GDH): d3's link cut gives one key per side (Leave), and what d1's side sends then is not opened by d3's side's
/// key; the link restored gives one key for the four (Merge). Needs root and iproute2 (CI has both); anywhere
/// else it reports itself skipped.
/// </summary>
public sealed class SecureNetnsPartitionTests : IDisposable
{
    private const string Group = "snetns";
    private readonly string _dir = Directory.CreateTempSubdirectory("conclave-secnetns-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public async Task A_cut_link_gives_one_key_per_side_and_its_restore_one_key_for_all()
    {
        string? unavailable = NetnsLab.Unavailable();
        Skip.If(unavailable is not null, unavailable);

        string conf = RingTestConfiguration.Netns(_dir);
        using NetnsLab lab = NetnsLab.Create(3);
        var daemons = new List<RingDaemonProcess>();
        var members = new List<SecureMember>();
        try
        {
            for (int i = 1; i <= 3; i++)
            {
                daemons.Add(await RingDaemonProcess.StartInNamespaceAsync(lab.Node(i), RingDaemonProcess.FreeTcpPort(), conf, $"d{i}", NetnsLab.Address(i), Path.Combine(_dir, $"state-d{i}")));
            }

            await Task.WhenAll(daemons.Select(d => d.WaitForRegularAsync("d1", "d2", "d3")));
            using var timeout = new CancellationTokenSource(ClientSessions.Patience * 3);
            string[] names = ["m1", "m2", "m3", "m4"];
            int[] daemonOf = [1, 2, 3, 3];
            MemberIdentity[] identities = [.. names.Select(_ => MemberIdentity.Generate())];
            var directory = new MemberDirectory();
            for (int i = 0; i < names.Length; i++)
            {
                directory.Add($"#{names[i]}#d{daemonOf[i]}", identities[i].PublicKey);
            }

            for (int i = 0; i < names.Length; i++)
            {
                var options = new SecureGroupOptions { Protocol = KeyAgreementProtocol.Gdh, Identity = identities[i], Directory = directory };
                members.Add(await SecureMember.JoinAsync(daemons[daemonOf[i] - 1].UnixSpreadName, names[i], Group, options, timeout.Token));
            }

            SecureMember[] all = [.. members], together = [members[0], members[1]], cutOff = [members[2], members[3]];
            await SecureConvergence.OneKeyPerComponentAsync("four members keyed over three namespaces", all);

            // Cut d3's link: one key per side, each a Leave.
            int[] marks = [.. all.Select(m => m.ViewCount)];
            int captureMark = together[1].CapturedCount;
            lab.Cut(3);
            await SecureConvergence.OneKeyPerComponentAsync("one key per side of the cut", together, cutOff);
            Assert.All(all.Select((m, k) => m.ViewsSince(marks[k])[^1]), v => Assert.Equal([SecureKeyEvent.Leave], v.Events));
            Assert.NotEqual(together[0].LastView!.KeyFingerprint, cutOff[0].LastView!.KeyFingerprint);
            await together[0].SendAsync("SECRET-OF-D1-D2", timeout.Token);
            await SecureConvergence.DeliveredAsync(together, "SECRET-OF-D1-D2");
            byte[] sealedDuringCut = Assert.Single(together[1].CapturedSince(captureMark));
            Assert.True(SecureConvergence.TryOpen(together[1].CurrentCipher!, sealedDuringCut, Group, together[0].Name));
            // The cut-off side receives nothing now, so its key may be used from here.
            Assert.False(SecureConvergence.TryOpen(cutOff[0].CurrentCipher!, sealedDuringCut, Group, together[0].Name), "the cut-off side opened what the other side sent");

            // Restore: one key for the four, a Merge.
            marks = [.. all.Select(m => m.ViewCount)];
            lab.Restore(3);
            await SecureConvergence.OneKeyPerComponentAsync("one key for the four after the restore", all);
            Assert.All(all.Select((m, k) => m.ViewsSince(marks[k])[^1]), v => Assert.Contains(SecureKeyEvent.Merge, v.Events));
            await cutOff[1].SendAsync("AFTER-THE-RESTORE", timeout.Token);
            await SecureConvergence.DeliveredAsync(all, "AFTER-THE-RESTORE");
            Assert.DoesNotContain("SECRET-OF-D1-D2", cutOff[0].Texts);
            Assert.All(all, m => Assert.Equal(0, m.Counters.Forged + m.Counters.OtherEpoch + m.Counters.Replays + m.Counters.KeyAgreementRejected));
        }
        finally
        {
            foreach (SecureMember m in members)
            {
                await m.DisposeAsync();
            }

            foreach (RingDaemonProcess daemon in daemons)
            {
                await daemon.DisposeAsync();
            }
        }
    }
}
