using System.Text;
using Conclave.Client.Secure;
using Conclave.Client.Tests.EndToEnd;
using Conclave.Client.Tests.Flush;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Client.Tests.Secure;

/// <summary>Secure members against the in-process daemon: one key per view, sealed traffic, a key change on leave.</summary>
public sealed class SecureGroupEndToEndTests : IAsyncLifetime
{
    private const string Group = "sg";

    private readonly CancellationTokenSource _hangGuard = new(TimeSpan.FromMinutes(2));
    private readonly Pulse _pulse = new();
    private readonly MemberDirectory _directory = new();
    private readonly Dictionary<string, MemberIdentity> _identities = [];
    private readonly List<Member> _members = [];
    private InProcessDaemon _daemon = null!;

    public Task InitializeAsync()
    {
        _daemon = InProcessDaemon.Start();
        foreach (string name in new[] { "a", "b", "c" })
        {
            var identity = MemberIdentity.Generate();
            _identities[name] = identity;
            _directory.Add($"#{name}#localhost", identity.PublicKey);
        }

        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (Member m in _members)
        {
            await m.DisposeAsync();
        }

        await _daemon.DisposeAsync();
        foreach (MemberIdentity identity in _identities.Values)
        {
            identity.Dispose();
        }

        _hangGuard.Dispose();
    }

    [Theory]
    [InlineData(KeyAgreementProtocol.Gdh)]
    [InlineData(KeyAgreementProtocol.Ckd)]
    [InlineData(KeyAgreementProtocol.Tgdh)]
    public async Task Members_share_one_key_per_view_and_a_leave_changes_it(KeyAgreementProtocol protocol)
    {
        Member a = await JoinAsync("a", protocol);
        await UntilAsync(() => a.LastView?.Members.Count == 1);
        Member b = await JoinAsync("b", protocol);
        Member c = await JoinAsync("c", protocol);
        Member[] all = [a, b, c];
        await UntilAsync(() => all.All(m => m.LastView?.Members.Count == 3));
        IReadOnlyList<byte> threeKey = a.LastView!.KeyFingerprint;
        Assert.All(all, m => Assert.Equal(threeKey, m.LastView!.KeyFingerprint));

        await a.Group.SendAsync(7, Encoding.ASCII.GetBytes("to-three"), _hangGuard.Token);
        await UntilAsync(() => all.All(m => m.Texts.Contains("to-three")));

        await b.Group.LeaveAsync(_hangGuard.Token);
        await UntilAsync(() => b.Left && new[] { a, c }.All(m => m.LastView?.Members.Count == 2));
        Assert.Equal(a.LastView!.KeyFingerprint, c.LastView!.KeyFingerprint);
        Assert.NotEqual(threeKey, a.LastView.KeyFingerprint);

        await c.Group.SendAsync(8, Encoding.ASCII.GetBytes("to-two"), _hangGuard.Token);
        await UntilAsync(() => a.Texts.Contains("to-two") && c.Texts.Contains("to-two"));
        Assert.DoesNotContain("to-two", b.Texts);
        Assert.All(all, m => Assert.Equal(0, m.Group.Counters.Forged + m.Group.Counters.Replays));
    }

    private async Task<Member> JoinAsync(string name, KeyAgreementProtocol protocol)
    {
        var options = new SecureGroupOptions { Protocol = protocol, Identity = _identities[name], Directory = _directory };
        SecureGroup group = await SecureGroup.JoinAsync(_daemon.TcpSpreadName, name, Group, options, _hangGuard.Token);
        var member = new Member(group, _pulse, _hangGuard.Token);
        _members.Add(member);
        return member;
    }

    private Task UntilAsync(Func<bool> condition) => _pulse.UntilAsync(condition, _hangGuard.Token);

    private sealed class Member : IAsyncDisposable
    {
        private readonly object _lock = new();
        private readonly List<string> _texts = [];
        private readonly Task _loop;
        private SecureView? _lastView;

        public Member(SecureGroup group, Pulse pulse, CancellationToken cancellationToken)
        {
            Group = group;
            _loop = Task.Run(
                async () =>
                {
                    while (true)
                    {
                        SecureEvent e = await group.ReceiveAsync(cancellationToken);
                        lock (_lock)
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
                            }
                        }

                        pulse.Fire();
                    }
                },
                cancellationToken);
        }

        public SecureGroup Group { get; }

        public bool Left { get; private set; }

        public SecureView? LastView
        {
            get
            {
                lock (_lock)
                {
                    return _lastView;
                }
            }
        }

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

        public async ValueTask DisposeAsync()
        {
            await Group.DisposeAsync();
            try
            {
                await _loop;
            }
            catch (Exception e) when (e is SpreadException or OperationCanceledException)
            {
                // The session ended with the test.
            }
        }
    }
}
