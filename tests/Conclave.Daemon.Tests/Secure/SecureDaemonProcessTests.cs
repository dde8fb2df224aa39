using Conclave.Client.Secure;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Conclave.Daemon.Tests.Ring;

namespace Conclave.Daemon.Tests.Secure;

/// <summary>
/// Secure members on three real `conclave daemon` processes (127.0.0.1/.2/.3; 1, 1 and 2 members): one key for
/// the four; a kill -9 of d3 leaves the two survivors with a new key that the dead daemon's members never held;
/// d3 restarted merges back into the ring, its members come back and everyone converges to one key again.
/// </summary>
public sealed class SecureDaemonProcessTests : IDisposable
{
    private const string Group = "sproc";
    private readonly string _dir = Directory.CreateTempSubdirectory("conclave-secproc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Task<RingDaemonProcess> Start(string conf, int i) =>
        RingDaemonProcess.StartAsync(conf, $"d{i}", $"127.0.0.{i}", Path.Combine(_dir, $"state-d{i}"));

    [Fact]
    public async Task Secure_members_survive_a_kill_of_their_daemon_and_converge_again_after_its_restart()
    {
        string conf = RingTestConfiguration.Loopback(_dir);
        await using RingDaemonProcess d1 = await Start(conf, 1);
        await using RingDaemonProcess d2 = await Start(conf, 2);
        RingDaemonProcess d3 = await Start(conf, 3);
        var members = new List<SecureMember>();
        try
        {
            await Task.WhenAll(d1.WaitForRegularAsync("d1", "d2", "d3"), d2.WaitForRegularAsync("d1", "d2", "d3"), d3.WaitForRegularAsync("d1", "d2", "d3"));
            using var timeout = new CancellationTokenSource(ClientSessions.Patience * 3);
            string[] names = ["m1", "m2", "m3", "m4"];
            int[] daemonOf = [1, 2, 3, 3];
            MemberIdentity[] identities = [.. names.Select(_ => MemberIdentity.Generate())];
            var directory = new MemberDirectory();
            for (int i = 0; i < names.Length; i++)
            {
                directory.Add($"#{names[i]}#d{daemonOf[i]}", identities[i].PublicKey);
            }

            RingDaemonProcess[] daemons = [d1, d2, d3];
            async Task<SecureMember> Join(int i)
            {
                var options = new SecureGroupOptions { Protocol = KeyAgreementProtocol.Tgdh, Identity = identities[i], Directory = directory };
                SecureMember member = await SecureMember.JoinAsync(daemons[daemonOf[i] - 1].SpreadName, names[i], Group, options, timeout.Token);
                members.Add(member);
                return member;
            }

            for (int i = 0; i < names.Length; i++)
            {
                await Join(i);
            }

            SecureMember[] four = [.. members];
            await SecureConvergence.OneKeyPerComponentAsync("four members keyed over three daemon processes", four);
            IReadOnlyList<byte> fourKey = four[0].LastView!.KeyFingerprint;

            // kill -9 of d3: m3 and m4 lose their daemon; m1 and m2 get a new key (Leave).
            SecureMember[] survivors = [four[0], four[1]];
            int[] marks = [.. survivors.Select(m => m.ViewCount)];
            int captureMark = survivors[1].CapturedCount;
            d3.Kill();
            await d3.DisposeAsync();
            await SecureConvergence.OneKeyPerComponentAsync("the two survivors of the kill keyed", survivors);
            Assert.All(survivors.Select((m, k) => m.ViewsSince(marks[k])[^1]), v => Assert.Equal([SecureKeyEvent.Leave], v.Events));
            Assert.NotEqual(fourKey, survivors[0].LastView!.KeyFingerprint);
            await SecureConvergence.UntilAsync(() => four[2].Closed && four[3].Closed, four[2..], "the dead daemon's members to see their session end");
            await survivors[0].SendAsync("AFTER-THE-KILL", timeout.Token);
            await SecureConvergence.DeliveredAsync(survivors, "AFTER-THE-KILL");
            byte[] sealedAfterKill = Assert.Single(survivors[1].CapturedSince(captureMark));
            Assert.True(SecureConvergence.TryOpen(survivors[1].CurrentCipher!, sealedAfterKill, Group, survivors[0].Name));
            Assert.False(SecureConvergence.TryOpen(four[3].CurrentCipher!, sealedAfterKill, Group, survivors[0].Name), "a member of the killed daemon opened what was sent after the kill");

            // d3 restarts and merges back; its members reconnect and rejoin: one key for the four again.
            d3 = await Start(conf, 3);
            daemons[2] = d3;
            await Task.WhenAll(d1.WaitForRegularAsync("d1", "d2", "d3"), d3.WaitForRegularAsync("d1", "d2", "d3"));
            foreach (SecureMember gone in four[2..])
            {
                members.Remove(gone);
                await gone.DisposeAsync();
            }

            SecureMember[] back = [await Join(2), await Join(3)];
            SecureMember[] again = [.. survivors, .. back];
            await SecureConvergence.OneKeyPerComponentAsync("four members keyed after d3's restart", again);
            Assert.NotEqual(fourKey, again[0].LastView!.KeyFingerprint);
            await back[1].SendAsync("AFTER-THE-RESTART", timeout.Token);
            await SecureConvergence.DeliveredAsync(again, "AFTER-THE-RESTART");
            Assert.All(again, m => Assert.Equal(0, m.Counters.Forged + m.Counters.OtherEpoch + m.Counters.Replays + m.Counters.KeyAgreementRejected));
        }
        finally
        {
            foreach (SecureMember m in members)
            {
                await m.DisposeAsync();
            }

            await d3.DisposeAsync();
        }
    }
}
