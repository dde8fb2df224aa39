using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Conclave.Samples.Chat;
using Conclave.Samples.Counter;
using Conclave.Samples.SecureChat;

namespace Conclave.Distribution.Tests;

/// <summary>Each sample, run in-process as its Program runs it, against a daemon in this process.</summary>
public sealed class SampleTests
{
    [Fact]
    public async Task Chat_participants_hear_each_other_and_see_the_room_change()
    {
        await using LocalDaemon daemon = LocalDaemon.Start();
        var bobIn = new FedInput();
        var bobOut = new WatchedOutput();
        Task<int> bob = ChatSession.RunAsync(new ChatOptions(daemon.SpreadName, "bob", "room", 1, 0), bobIn, bobOut, CancellationToken.None);
        await bobOut.WaitForAsync("* you: JOIN -> 1 in room");

        var aliceIn = new FedInput();
        var aliceOut = new WatchedOutput();
        Task<int> alice = ChatSession.RunAsync(new ChatOptions(daemon.SpreadName, "alice", "room", 2, 1), aliceIn, aliceOut, CancellationToken.None);
        aliceIn.Feed("hello bob");
        aliceIn.End(); // alice stays until she hears one line
        Assert.Equal("<#alice#localhost> hello bob", await bobOut.WaitForAsync("hello bob"));
        bobIn.Feed("hi alice");
        Assert.Equal(0, await alice.Bounded());
        Assert.Contains("<#bob#localhost> hi alice", aliceOut.All);
        await bobOut.WaitForAsync("* #alice#localhost: DISCONNECT -> 1 in room");
        bobIn.End();
        Assert.Equal(0, await bob.Bounded());
    }

    [Fact]
    public async Task Secure_chat_members_share_a_key_and_exchange_sealed_lines()
    {
        await using LocalDaemon daemon = LocalDaemon.Start();
        string dir = Directory.CreateTempSubdirectory("conclave-securechat-").FullName;
        try
        {
            string trust = Path.Combine(dir, "trust.txt");
            foreach (string name in new[] { "alice", "bob" })
            {
                using MemberIdentity identity = MemberIdentity.Generate();
                MemberKeyFile.Write(Path.Combine(dir, name + ".key"), identity, overwrite: false);
                await File.AppendAllTextAsync(trust, $"#{name}#localhost {Convert.ToBase64String(identity.PublicKey)}\n");
            }

            SecureChatOptions Options(string name, int waitMembers, int exitAfter) =>
                new(daemon.SpreadName, name, "vault", KeyAgreementProtocol.Tgdh, Path.Combine(dir, name + ".key"), trust, waitMembers, exitAfter);

            var bobIn = new FedInput();
            var bobOut = new WatchedOutput();
            Task<int> bob = SecureChatSession.RunAsync(Options("bob", 2, 0), bobIn, bobOut, CancellationToken.None);
            await bobOut.WaitForAsync("* keyed view");

            var aliceIn = new FedInput();
            var aliceOut = new WatchedOutput();
            Task<int> alice = SecureChatSession.RunAsync(Options("alice", 2, 1), aliceIn, aliceOut, CancellationToken.None);
            aliceIn.Feed("the vault code is 1234");
            aliceIn.End();
            bobIn.Feed("noted");

            Assert.Equal("<#alice#localhost> the vault code is 1234", await bobOut.WaitForAsync("vault code"));
            Assert.Equal(0, await alice.Bounded());
            Assert.Contains("<#bob#localhost> noted", aliceOut.All);

            // Both members printed the same key fingerprint for their two-member view.
            string Fingerprint(IReadOnlyList<string> lines) => lines.Last(l => l.Contains(" of 2: ", StringComparison.Ordinal)).Split("key fingerprint ")[1];
            Assert.Equal(Fingerprint(aliceOut.All), Fingerprint(bobOut.All));
            bobIn.End();
            Assert.Equal(0, await bob.Bounded());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Counter_replicas_agree_and_a_late_replica_takes_the_value()
    {
        await using LocalDaemon daemon = LocalDaemon.Start();
        var firstIn = new FedInput();
        var firstOut = new WatchedOutput();
        Task<int> first = CounterReplica.RunAsync(new CounterOptions(daemon.SpreadName, "r1", "count", 1, null), firstIn, firstOut, CancellationToken.None);
        firstIn.Feed("5");
        await firstOut.WaitForAsync("value 5");

        // r2 joins late: it must learn 5 from r1, then both apply r2's +7 and r1's -2.
        var secondIn = new FedInput();
        var secondOut = new WatchedOutput();
        Task<int> second = CounterReplica.RunAsync(new CounterOptions(daemon.SpreadName, "r2", "count", 2, 10), secondIn, secondOut, CancellationToken.None);
        secondIn.Feed("7");
        secondIn.End();
        // The state (5 at the view's start) and r2's +7 are ordered either way; r2 ends up at 12 in both orders.
        string transfer = await secondOut.WaitForAsync("from #r1#localhost");
        Assert.True(transfer is "* value 5 from #r1#localhost" or "* value 12 from #r1#localhost", transfer);
        await firstOut.WaitForAsync("value 12");
        firstIn.Feed("-2");
        Assert.Equal(0, await second.Bounded());
        await firstOut.WaitForAsync("value 10");
        Assert.Contains("value 10", secondOut.All);
        Assert.DoesNotContain(secondOut.All, l => l.StartsWith("value ", StringComparison.Ordinal) && l != "value 12" && l != "value 10");
        firstIn.End();
        Assert.Equal(0, await first.Bounded());
    }
}
