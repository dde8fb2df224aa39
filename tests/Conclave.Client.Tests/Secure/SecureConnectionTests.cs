using System.Text;
using Conclave.Client.Flush;
using Conclave.Client.Secure;
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
        foreach (string name in new[] { "a", "b" })
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
        Assert.Contains("plain:hello plain", a.Texts);
    }

    [Fact]
    public async Task A_key_is_refreshed_on_request_and_on_the_timer()
    {
        Recorder a = await ConnectAsync("a");
        Recorder b = await ConnectAsync("b");
        await a.Connection.JoinAsync("s", Options("a", KeyAgreementProtocol.Gdh) with { RefreshInterval = TimeSpan.FromMilliseconds(400) }, _hangGuard.Token);
        await b.Connection.JoinAsync("s", Options("b", KeyAgreementProtocol.Gdh) with { RefreshInterval = TimeSpan.FromMilliseconds(400) }, _hangGuard.Token);
        await UntilAsync(() => a.View("s")?.Members.Count == 2 && b.View("s")?.Members.Count == 2);

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

    private SecureGroupOptions Options(string name, KeyAgreementProtocol protocol) =>
        new() { Protocol = protocol, Identity = _identities[name], Directory = _directory };

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
