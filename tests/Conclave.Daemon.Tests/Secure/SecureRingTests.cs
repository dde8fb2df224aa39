using System.Net;
using System.Text;
using Conclave.Client;
using Conclave.Client.Flush;
using Conclave.Client.Secure;
using Conclave.Client.Secure.Internal;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Conclave.Daemon.Tests.Ring;

namespace Conclave.Daemon.Tests.Secure;

/// <summary>
/// Secure members over three in-process daemons (1, 1 and 2 members, as the paper's setting): joins, a leave and a
/// daemon kill converge to one key per view; a member cut off by the kill cannot open what is sent afterwards;
/// no plaintext of a secure group crosses any client–daemon connection (a plain group on the same sessions does).
/// </summary>
public sealed class SecureRingTests
{
    private const string Group = "sring";
    private const string PlainGroup = "pring";

    [Theory]
    [InlineData(KeyAgreementProtocol.Gdh, SecureAead.Aes256Gcm)]
    [InlineData(KeyAgreementProtocol.Tgdh, SecureAead.ChaCha20Poly1305)]
    public async Task Members_over_three_daemons_converge_and_departed_members_cannot_read(KeyAgreementProtocol protocol, SecureAead aead)
    {
        await using InProcessRing ring = InProcessRing.Start(3);
        await ring.WaitForRegularAsync("d1", "d2", "d3");
        using var timeout = new CancellationTokenSource(ClientSessions.Patience * 2);
        var directory = new MemberDirectory();
        string[] names = ["m1", "m2", "m3", "m4"];
        int[] daemonOf = [0, 1, 2, 2];
        var taps = new List<TcpTap>();
        var members = new List<Member>();
        try
        {
            var identities = names.Select(_ => MemberIdentity.Generate()).ToArray();
            for (int i = 0; i < names.Length; i++)
            {
                directory.Add($"#{names[i]}#d{daemonOf[i] + 1}", identities[i].PublicKey);
            }

            for (int i = 0; i < names.Length; i++)
            {
                var tap = new TcpTap(ring.Daemons[daemonOf[i]].TcpEndpoints[0]);
                taps.Add(tap);
                SecureConnection c = await SecureConnection.ConnectAsync(tap.SpreadName, names[i], timeout.Token);
                var options = new SecureGroupOptions { Protocol = protocol, Identity = identities[i], Directory = directory, Aead = aead };
                await c.JoinAsync(Group, options, timeout.Token);
                await c.JoinPlainAsync(PlainGroup, timeout.Token);
                members.Add(new Member(c, timeout.Token));
            }

            await Until(() => members.All(m => m.Keyed(4)), members, "four members keyed");
            AssertOneKey(members);

            // A leave: the three others get a new key.
            Member leaver = members[1];
            IReadOnlyList<byte> fourKey = leaver.LastView!.KeyFingerprint;
            await leaver.Connection.LeaveAsync(Group, timeout.Token);
            Member[] rest = [members[0], members[2], members[3]];
            await Until(() => rest.All(m => m.Keyed(3)) && leaver.Left, members, "three members keyed after a leave");
            AssertOneKey(rest);
            Assert.NotEqual(fourKey, rest[0].LastView!.KeyFingerprint);
            await rest[0].Connection.SendAsync(Group, 1, Encoding.ASCII.GetBytes("SECRET-AFTER-LEAVE"), timeout.Token);
            await Until(() => rest.All(m => m.Texts.Contains("SECRET-AFTER-LEAVE")), members, "delivery to the three");
            Assert.DoesNotContain("SECRET-AFTER-LEAVE", leaver.Texts);

            // m1 on d1 will be cut off: keep the key it holds and capture what the survivors receive afterwards.
            Member cutOff = members[0];
            EpochCipher oldKey = cutOff.Connection.CoreOf(Group)!.CurrentCipher!;
            Member[] survivors = [members[2], members[3]];
            SecureGroupCore survivorCore = survivors[1].Connection.CoreOf(Group)!;
            lock (survivors[1].Lock)
            {
                survivorCore.Captured = [];
            }

            SpreadDaemon d1 = ring.Daemons[0];
            ring.Daemons.RemoveAt(0);
            await d1.DisposeAsync();
            await Until(() => survivors.All(m => m.Keyed(2)), survivors, "two members keyed after d1 was killed");
            AssertOneKey(survivors);
            await survivors[0].Connection.SendAsync(Group, 1, Encoding.ASCII.GetBytes("SECRET-AFTER-KILL"), timeout.Token);
            await survivors[0].Connection.SendAsync(PlainGroup, 1, Encoding.ASCII.GetBytes("PLAIN-MARKER"), timeout.Token);
            await Until(() => survivors.All(m => m.Texts.Contains("SECRET-AFTER-KILL") && m.Plain.Contains("PLAIN-MARKER")), survivors, "delivery to the two");

            byte[][] captured;
            lock (survivors[1].Lock)
            {
                captured = [.. survivorCore.Captured!];
            }

            Assert.NotEmpty(captured);
            Assert.All(captured, wire => Assert.False(TryOpen(oldKey, wire, survivors[0].Connection.PrivateGroup)));
            Assert.Contains(captured, wire => TryOpen(survivorCore.CurrentCipher!, wire, survivors[0].Connection.PrivateGroup));

            // What the daemons saw: secure text never, the plain group's text yes (the capture works).
            byte[] seen = [.. taps.SelectMany(t => t.Seen())];
            foreach (string secret in new[] { "SECRET-AFTER-LEAVE", "SECRET-AFTER-KILL" })
            {
                Assert.True(seen.AsSpan().IndexOf(Encoding.ASCII.GetBytes(secret)) < 0, $"{secret} crossed a daemon connection in clear");
            }

            Assert.True(seen.AsSpan().IndexOf("PLAIN-MARKER"u8) >= 0);
            Assert.All(members.Where(m => m != cutOff), m => Assert.Equal(0, m.Forged));
        }
        finally
        {
            foreach (Member m in members)
            {
                await m.DisposeAsync();
            }

            foreach (TcpTap t in taps)
            {
                await t.DisposeAsync();
            }
        }
    }

    private static bool TryOpen(EpochCipher cipher, byte[] wire, string sender)
    {
        if (!SealedFormat.TryReadHeader(wire, out SealedFormat.Header header))
        {
            return false;
        }

        var plaintext = new byte[wire.Length - SealedFormat.HeaderSize - EpochCipher.TagSize];
        byte[] ad = SealedFormat.AssociatedData(wire.AsSpan(0, SealedFormat.HeaderSize), Group, sender);
        return cipher.TryOpen(sender, header.Sequence, wire.AsSpan(SealedFormat.HeaderSize, plaintext.Length), wire.AsSpan(wire.Length - EpochCipher.TagSize), plaintext, ad);
    }

    private static void AssertOneKey(IReadOnlyList<Member> members)
    {
        SecureView first = members[0].LastView!;
        Assert.All(members, m => Assert.Equal(first.KeyFingerprint, m.LastView!.KeyFingerprint));
        Assert.All(members, m => Assert.Equal(first.Epoch, m.LastView!.Epoch));
    }

    private static async Task Until(Func<bool> condition, IReadOnlyList<Member> members, string what)
    {
        using var patience = new CancellationTokenSource(ClientSessions.Patience);
        while (true)
        {
            // The signals are taken before the condition is checked, so an event in between is not missed.
            Task[] next = [.. members.Select(m => m.NextEvent)];
            if (condition())
            {
                return;
            }

            try
            {
                await Task.WhenAny(next).WaitAsync(patience.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"waiting for {what}: {string.Join("; ", members.Select(m => $"{m.Connection.PrivateGroup} {m.LastView?.Members.Count} {m.LastView?.Epoch}"))}");
            }
        }
    }

    private sealed class Member : IAsyncDisposable
    {
        private readonly List<string> _texts = [];
        private readonly List<string> _plain = [];
        private readonly Task _loop;
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private SecureView? _lastView;

        public Member(SecureConnection connection, CancellationToken cancellationToken)
        {
            Connection = connection;
            _loop = Task.Run(() => LoopAsync(cancellationToken), cancellationToken);
        }

        public object Lock { get; } = new();

        public SecureConnection Connection { get; }

        public bool Left { get; private set; }

        public long Forged { get; private set; }

        public Task NextEvent => Volatile.Read(ref _next).Task;

        public SecureView? LastView
        {
            get
            {
                lock (Lock)
                {
                    return _lastView;
                }
            }
        }

        public List<string> Texts
        {
            get
            {
                lock (Lock)
                {
                    return [.. _texts];
                }
            }
        }

        public List<string> Plain
        {
            get
            {
                lock (Lock)
                {
                    return [.. _plain];
                }
            }
        }

        public bool Keyed(int members) => LastView?.Members.Count == members;

        public async ValueTask DisposeAsync()
        {
            await Connection.DisposeAsync();
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        private async Task LoopAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                SecureEvent e;
                try
                {
                    e = await Connection.ReceiveAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is SpreadException or OperationCanceledException)
                {
                    Interlocked.Exchange(ref _next, new(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();
                    return;
                }

                lock (Lock)
                {
                    switch (e)
                    {
                        case SecureView v:
                            _lastView = v;
                            break;
                        case SecureMessage m:
                            _texts.Add(Encoding.ASCII.GetString(m.Body.Span));
                            break;
                        case SecureLeft:
                            Left = true;
                            break;
                        case PlainGroupEvent { Event: FlushDataMessage d }:
                            _plain.Add(Encoding.ASCII.GetString(d.Body.Span));
                            break;
                    }

                    Forged = Connection.CoreOf(Group)?.Counters.Forged ?? Forged;
                }

                Interlocked.Exchange(ref _next, new(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();
            }
        }
    }
}
