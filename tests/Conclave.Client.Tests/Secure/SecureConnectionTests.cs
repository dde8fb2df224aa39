using System.Text;
using Conclave.Client.Flush;
using Conclave.Client.Secure;
using Conclave.Client.Secure.Internal;
using Conclave.Client.Tests.EndToEnd;
using Conclave.Client.Tests.Flush;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Client.Tests.Secure;

/// <summary>Several secure groups with different modules, AEADs and options on one session, a plain group beside them, and key refresh.</summary>
public sealed class SecureConnectionTests : IAsyncLifetime
{
    private readonly CancellationTokenSource _hangGuard = new(TimeSpan.FromMinutes(2));
    private readonly Pulse _pulse = new();
    private readonly MemberDirectory _directory = new();
    private readonly Dictionary<string, MemberIdentity> _identities = [];
    private readonly List<Recorder> _recorders = [];
    private InProcessDaemon _daemon = null!;

    public Task InitializeAsync()
    {
        _daemon = InProcessDaemon.Start();
        foreach (string name in new[] { "a", "b", "c", "d" })
        {
            var identity = MemberIdentity.Generate();
            _identities[name] = identity;
            _directory.Add($"#{name}#localhost", identity.PublicKey);
        }

        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (Recorder r in _recorders)
        {
            await r.DisposeAsync();
        }

        await _daemon.DisposeAsync();
        foreach (MemberIdentity identity in _identities.Values)
        {
            identity.Dispose();
        }

        _hangGuard.Dispose();
    }

    [Fact]
    public async Task Three_secure_groups_with_different_modules_and_a_plain_group_share_one_session()
    {
        Recorder a = await ConnectAsync("a");
        Recorder b = await ConnectAsync("b");
        foreach (Recorder r in new[] { a, b })
        {
            string name = r.Name;
            await r.Connection.JoinAsync("s-gdh", Options(name, KeyAgreementProtocol.Gdh), _hangGuard.Token);
            await r.Connection.JoinAsync("s-ckd", Options(name, KeyAgreementProtocol.Ckd) with { Aead = SecureAead.ChaCha20Poly1305 }, _hangGuard.Token);
            await r.Connection.JoinAsync("s-tgdh", Options(name, KeyAgreementProtocol.Tgdh) with { SignMessages = true }, _hangGuard.Token);
            await r.Connection.JoinPlainAsync("plain", _hangGuard.Token);
        }

        string[] secure = ["s-gdh", "s-ckd", "s-tgdh"];
        await UntilAsync(() => secure.All(g => a.View(g)?.Members.Count == 2 && b.View(g)?.Members.Count == 2));
        foreach (string g in secure)
        {
            Assert.Equal(a.View(g)!.KeyFingerprint, b.View(g)!.KeyFingerprint);
        }

        Assert.Equal(3, secure.Select(g => Convert.ToHexString([.. a.View(g)!.KeyFingerprint])).Distinct().Count());

        foreach (string g in secure.Append("plain"))
        {
            await a.Connection.SendAsync(g, 5, Encoding.ASCII.GetBytes("hello " + g), _hangGuard.Token);
        }

        await UntilAsync(() => secure.Append("plain").All(g => b.Texts.Contains($"{g}:hello {g}")));
        await UntilAsync(() => a.Texts.Contains("plain:hello plain"));
    }

    [Fact]
    public async Task A_key_is_refreshed_on_request_and_on_the_timer()
    {
        (Recorder a, Recorder b) = await TwoKeyedInGdhGroupAsync(o => o with { RefreshInterval = TimeSpan.FromMilliseconds(400) });

        // On request, from the member that is not the controller: it asks, the controller refreshes.
        int before = a.Views("s").Count(v => v.Events.Contains(SecureKeyEvent.Refresh));
        await UntilAsync(() => b.Connection.RequestRefresh("s"));
        await UntilAsync(() => a.Views("s").Count(v => v.Events.Contains(SecureKeyEvent.Refresh)) > before);

        // On the timer: keys keep changing while nobody asks.
        await UntilAsync(() => a.Views("s").Count(v => v.Events.Contains(SecureKeyEvent.Refresh)) >= before + 3);
        await UntilAsync(() => b.View("s")!.Epoch == a.View("s")!.Epoch);
        Assert.Equal(a.View("s")!.KeyFingerprint, b.View("s")!.KeyFingerprint);
        await b.Connection.SendAsync("s", 1, "after refreshes"u8.ToArray(), _hangGuard.Token);
        await UntilAsync(() => a.Texts.Contains("s:after refreshes"));
    }

    [Fact]
    public async Task A_send_waiting_for_a_key_ends_when_the_session_is_closed()
    {
        Recorder a = await ConnectAsync("a");
        var trust = TrustPolicy.AllowKeys([_identities["a"].PublicKey]);

        // b is not trusted, so b never gets a key and its send waits.
        Recorder b = await ConnectAsync("b");
        await a.Connection.JoinAsync("s", Options("a", KeyAgreementProtocol.Gdh) with { Trust = trust }, _hangGuard.Token);
        await b.Connection.JoinAsync("s", Options("b", KeyAgreementProtocol.Gdh), _hangGuard.Token);
        await UntilAsync(() => a.View("s")?.Excluded.Contains(b.Connection.PrivateGroup) == true);
        Task send = b.Connection.SendAsync("s", 1, "never"u8.ToArray(), _hangGuard.Token).AsTask();
        Assert.False(send.IsCompleted);
        await b.Connection.DisposeAsync();
        SpreadException e = await Assert.ThrowsAsync<SpreadException>(() => send);
        Assert.Equal(Protocol.Spread.SpreadError.ConnectionClosed, e.Error);
    }

    [Theory]
    [InlineData(KeyAgreementProtocol.Gdh)]
    [InlineData(KeyAgreementProtocol.Ckd)]
    public async Task Key_agreement_unicasts_reach_only_their_addressee(KeyAgreementProtocol protocol)
    {
        var members = new List<Recorder>();
        foreach (string name in new[] { "a", "b", "c", "d" })
        {
            Recorder r = await ConnectAsync(name);
            members.Add(r);
            await r.Connection.JoinAsync("s", Options(name, protocol), _hangGuard.Token);
            int n = members.Count;
            await UntilAsync(() => members.All(m => m.View("s")?.Members.Count == n));
        }

        Assert.Single(members.Select(m => Convert.ToHexString([.. m.View("s")!.KeyFingerprint])).Distinct());

        // Joins unicast (GDH: hand-off and factor-outs; CKD: hellos and replies) and those went to private groups,
        // so no member ever saw a key agreement message meant for another.
        Assert.True(members.Sum(m => m.Connection.PrivateKeyAgreementReceived) >= 3, "no unicast went through a private group");
        Assert.All(members, m => Assert.Equal(0, m.Connection.CoreOf("s")!.NotForMeReceived));
        Assert.All(members, m => Assert.Equal(0, m.Connection.DroppedPrivateMessages));
        Assert.All(members, m => Assert.Equal(0, m.Connection.Counters("s").KeyAgreementRejected));
    }

    [Fact]
    public async Task A_gdh_controller_prepares_its_next_share_off_the_receive_path_and_the_next_join_uses_it()
    {
        var counterB = new OperationCounter();
        Recorder a = await ConnectAsync("a");
        Recorder b = await ConnectAsync("b");
        await a.Connection.JoinAsync("s", Options("a", KeyAgreementProtocol.Gdh), _hangGuard.Token);
        await b.Connection.JoinAsync("s", Options("b", KeyAgreementProtocol.Gdh) with { Counter = counterB }, _hangGuard.Token);
        await UntilAsync(() => a.View("s")?.Members.Count == 2 && b.View("s")?.Members.Count == 2);

        // b, the newest member, is the controller: once keyed it prepares its next share on the thread pool. That raises no
        // event, so round trips of sealed traffic give the condition its chances to be checked again.
        for (int tick = 0; b.Connection.PrecomputationsRun < 1; tick++)
        {
            await a.Connection.SendAsync("s", 1, Encoding.ASCII.GetBytes($"tick {tick}"), _hangGuard.Token);
            await UntilAsync(() => b.Texts.Contains($"s:tick {tick}"));
        }

        Assert.Equal(0, counterB.PrecomputedExponentiations);
        Recorder c = await ConnectAsync("c");
        await c.Connection.JoinAsync("s", Options("c", KeyAgreementProtocol.Gdh), _hangGuard.Token);
        await UntilAsync(() => new[] { a, b, c }.All(r => r.View("s")?.Members.Count == 3));

        // The hand-off took the prepared work (a's partial key updated, and the cardinal value) and computed nothing else.
        Assert.Equal(2, counterB.PrecomputedExponentiations);
        // b's own: the two of its join (a's list raised to its share), then its element from c's key list; none for the hand-off.
        Assert.Equal(3, counterB.Exponentiations);
        Assert.Single(new[] { a, b, c }.Select(r => Convert.ToHexString([.. r.View("s")!.KeyFingerprint])).Distinct());
        await c.Connection.SendAsync("s", 1, "to all three"u8.ToArray(), _hangGuard.Token);
        await UntilAsync(() => a.Texts.Contains("s:to all three") && b.Texts.Contains("s:to all three"));
    }

    [Fact]
    public async Task Garbage_on_the_private_group_is_dropped_and_counted()
    {
        (Recorder a, Recorder b) = await TwoKeyedInGdhGroupAsync();

        await using GroupConnection raw = await GroupConnection.ConnectAsync(_daemon.TcpSpreadName, "x", groupMembership: false, _hangGuard.Token);
        const short unicastType = -32698;
        byte[][] bodies =
        [
            [],
            [0x00],
            [0x00, 0x00, 1, 2, 3],
            [0x00, 0x09, (byte)'s'],
            [0x00, 0x01, 0xFF, 1, 2],
            [0x00, 0x05, .. "other"u8, 1, 2, 3],
            [0x00, 0x01, (byte)'s', 1, 2, 3],
        ];
        foreach (byte[] body in bodies)
        {
            await raw.MulticastAsync(Protocol.Spread.ServiceType.Agreed, a.Connection.PrivateGroup, unicastType, body, _hangGuard.Token);
        }

        await raw.MulticastAsync(Protocol.Spread.ServiceType.Agreed, a.Connection.PrivateGroup, 3, "not for the layer"u8.ToArray(), _hangGuard.Token);

        // Dropped messages raise no event: round trips of sealed traffic give a's receive loop the chance to get to them.
        for (int tick = 0; a.Connection.DroppedPrivateMessages < 7 || a.Connection.Counters("s").KeyAgreementRejected < 1; tick++)
        {
            await b.Connection.SendAsync("s", 1, Encoding.ASCII.GetBytes($"tick {tick}"), _hangGuard.Token);
            await UntilAsync(() => a.Texts.Contains($"s:tick {tick}"));
        }

        // Six are dropped unparsed or for a group a is not in; one reaches s's module, which refuses it as malformed.
        Assert.Equal(7, a.Connection.DroppedPrivateMessages);
        Assert.Equal(1, a.Connection.Counters("s").KeyAgreementRejected);
        await b.Connection.SendAsync("s", 1, "still keyed"u8.ToArray(), _hangGuard.Token);
        await UntilAsync(() => a.Texts.Contains("s:still keyed"));
    }

    [Fact]
    public async Task Bodies_handed_out_stay_intact_after_later_receives_though_sealed_frames_are_lent_and_pooled()
    {
        // a receives by hand and keeps every message; b sends secure messages and, to a plain group, messages of the
        // sealed type (whose frames the Flush layer lends instead of copying), each big enough to reuse pooled buffers.
        SecureConnection a = await SecureConnection.ConnectAsync(_daemon.TcpSpreadName, "a", _hangGuard.Token);
        await using var closeA = a;
        Recorder b = await ConnectAsync("b");
        await a.JoinAsync("s", Options("a", KeyAgreementProtocol.Gdh), _hangGuard.Token);
        await a.JoinPlainAsync("plain", _hangGuard.Token);
        await b.Connection.JoinAsync("s", Options("b", KeyAgreementProtocol.Gdh), _hangGuard.Token);
        await b.Connection.JoinPlainAsync("plain", _hangGuard.Token);
        const int count = 40;
        var kept = new List<(string Group, ReadOnlyMemory<byte> Body)>();
        Task receiving = Task.Run(async () =>
        {
            while (kept.Count < 2 * count)
            {
                switch (await a.ReceiveAsync(_hangGuard.Token))
                {
                    case SecureMessage { MessageType: 9 } m:
                        kept.Add((m.Group, m.Body));
                        break;
                    case PlainGroupEvent { Event: FlushDataMessage { MessageType: SecureGroupCore.SealedType } d }:
                        kept.Add((d.Group, d.Body));
                        break;
                }
            }
        });

        await UntilAsync(() => b.View("s")?.Members.Count == 2);
        for (int i = 0; i < count; i++)
        {
            await b.Connection.SendAsync("s", 9, Body(i), _hangGuard.Token);
            await b.Connection.SendAsync("plain", SecureGroupCore.SealedType, Body(i + 1000), _hangGuard.Token);
        }

        await receiving;
        Assert.Equal(Enumerable.Range(0, count).Select(i => Convert.ToHexString(Body(i))), kept.Where(k => k.Group == "s").Select(k => Convert.ToHexString(k.Body.Span)));
        Assert.Equal(Enumerable.Range(1000, count).Select(i => Convert.ToHexString(Body(i))), kept.Where(k => k.Group == "plain").Select(k => Convert.ToHexString(k.Body.Span)));

        static byte[] Body(int i)
        {
            byte[] body = new byte[700 + (i % 3)];
            new Random(i).NextBytes(body);
            return body;
        }
    }

    [Fact]
    public async Task Concurrent_senders_on_one_session_reach_every_member_without_a_replay_rejection()
    {
        // Messages are sealed (taking their sequence number) before the Flush gate: they must still reach the wire in
        // sequence order, or receivers would reject the later-sealed, earlier-sent one as a replay. Sent in waves that
        // stay under the daemon's MaxSessionMessages (1,000 queued to a session), which disconnects a slow receiver.
        (Recorder a, Recorder b) = await TwoKeyedInGdhGroupAsync();
        const int waves = 6, senders = 8, each = 60;
        for (int wave = 0; wave < waves; wave++)
        {
            await Task.WhenAll(Enumerable.Range(0, senders).Select(s => Task.Run(async () =>
            {
                for (int i = 0; i < each; i++)
                {
                    await a.Connection.SendAsync("s", 1, Encoding.ASCII.GetBytes(Text(wave, s, i)), _hangGuard.Token);
                }
            })));

            int sent = (wave + 1) * senders * each;
            await UntilAsync(() => (b.Texts.Count >= sent && a.Texts.Count >= sent)
                || b.Connection.Counters("s").Replays + a.Connection.Counters("s").Replays > 0);
            Assert.Equal(0, b.Connection.Counters("s").Replays);
            Assert.Equal(0, a.Connection.Counters("s").Replays);
        }

        string[] expected = [.. Enumerable.Range(0, waves).SelectMany(w => Enumerable.Range(0, senders).SelectMany(s => Enumerable.Range(0, each).Select(i => "s:" + Text(w, s, i)))).Order()];
        Assert.Equal(expected, b.Texts.Order());
        Assert.Equal(expected, a.Texts.Order());

        // Big enough that the 64 KiB send batch fills and senders queue behind each other.
        static string Text(int wave, int sender, int i) => $"{wave}-{sender}-{i}".PadRight(3000, ' ');
    }

    private SecureGroupOptions Options(string name, KeyAgreementProtocol protocol) =>
        new() { Protocol = protocol, Identity = _identities[name], Directory = _directory };

    /// <summary>Members a and b in GDH group "s", both with its secure view of 2 (and so its key).</summary>
    private async Task<(Recorder A, Recorder B)> TwoKeyedInGdhGroupAsync(Func<SecureGroupOptions, SecureGroupOptions>? adjust = null)
    {
        adjust ??= o => o;
        Recorder a = await ConnectAsync("a");
        Recorder b = await ConnectAsync("b");
        await a.Connection.JoinAsync("s", adjust(Options("a", KeyAgreementProtocol.Gdh)), _hangGuard.Token);
        await b.Connection.JoinAsync("s", adjust(Options("b", KeyAgreementProtocol.Gdh)), _hangGuard.Token);
        await UntilAsync(() => a.View("s")?.Members.Count == 2 && b.View("s")?.Members.Count == 2);
        return (a, b);
    }

    private async Task<Recorder> ConnectAsync(string name)
    {
        SecureConnection c = await SecureConnection.ConnectAsync(_daemon.TcpSpreadName, name, _hangGuard.Token);
        var r = new Recorder(name, c, _pulse, _hangGuard.Token);
        _recorders.Add(r);
        return r;
    }

    private Task UntilAsync(Func<bool> condition) => _pulse.UntilAsync(condition, _hangGuard.Token);

    private sealed class Recorder : IAsyncDisposable
    {
        private readonly object _lock = new();
        private readonly Dictionary<string, List<SecureView>> _views = [];
        private readonly List<string> _texts = [];
        private readonly Task _loop;

        public Recorder(string name, SecureConnection connection, Pulse pulse, CancellationToken cancellationToken)
        {
            Name = name;
            Connection = connection;
            _loop = Task.Run(
                async () =>
                {
                    while (true)
                    {
                        SecureEvent e = await connection.ReceiveAsync(cancellationToken);
                        lock (_lock)
                        {
                            switch (e)
                            {
                                case SecureView v:
                                    (_views.TryGetValue(v.Group, out List<SecureView>? list) ? list : _views[v.Group] = []).Add(v);
                                    break;
                                case SecureMessage m:
                                    _texts.Add($"{m.Group}:{Encoding.ASCII.GetString(m.Body.Span)}");
                                    break;
                                case PlainGroupEvent { Event: FlushDataMessage d }:
                                    _texts.Add($"{d.Group}:{Encoding.ASCII.GetString(d.Body.Span)}");
                                    break;
                            }
                        }

                        pulse.Fire();
                    }
                },
                cancellationToken);
        }

        public string Name { get; }

        public SecureConnection Connection { get; }

        public List<string> Texts
        {
            get
            {
                lock (_lock)
                {
                    return [.. _texts];
                }
            }
        }

        public SecureView? View(string group) => Views(group).LastOrDefault();

        public List<SecureView> Views(string group)
        {
            lock (_lock)
            {
                return _views.TryGetValue(group, out List<SecureView>? list) ? [.. list] : [];
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Connection.DisposeAsync();
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
