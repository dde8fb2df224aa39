using System.Text;
using Conclave.Client.Flush;
using Conclave.Client.Secure;
using Conclave.Client.Secure.Internal;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Secure;

/// <summary>The sans-IO secure layer over Flush events: keys per view, sealing, replay and epoch rejection.</summary>
public sealed class SecureGroupCoreTests : IDisposable
{
    private const string Group = "sg";
    private readonly Dictionary<string, MemberIdentity> _identities = [];
    private readonly MemberDirectory _directory = new();
    private readonly Dictionary<string, SecureGroupCore> _cores = [];
    private int _viewIndex;

    public SecureGroupCoreTests()
    {
        foreach (string name in new[] { "#a#d", "#b#d", "#c#d", "#e#d" })
        {
            var identity = MemberIdentity.Generate();
            _identities[name] = identity;
            _directory.Add(name, identity.PublicKey);
        }
    }

    public static TheoryData<KeyAgreementProtocol> Protocols() => new() { KeyAgreementProtocol.Gdh, KeyAgreementProtocol.Ckd, KeyAgreementProtocol.Tgdh };

    [Theory]
    [MemberData(nameof(Protocols))]
    public void Every_member_gets_the_same_key_with_each_view_and_only_then_can_seal(KeyAgreementProtocol protocol)
    {
        SecureView[] first = InstallView(protocol, "#a#d", "#b#d", "#c#d");
        Assert.All(first, v => Assert.Equal(first[0].KeyFingerprint, v.KeyFingerprint));

        SecureView[] second = InstallView(protocol, "#a#d", "#c#d");
        Assert.All(second, v => Assert.Equal(second[0].KeyFingerprint, v.KeyFingerprint));
        Assert.NotEqual(first[0].KeyFingerprint, second[0].KeyFingerprint);

        byte[] sealedMessage = _cores["#a#d"].Seal(7, "secret"u8)!;
        Assert.True(sealedMessage.AsSpan().IndexOf("secret"u8) < 0);
        SecureMessage m = Assert.IsType<SecureMessage>(Assert.Single(DeliverData("#a#d", sealedMessage, "#c#d")));
        Assert.Equal("secret", Encoding.ASCII.GetString(m.Body.Span));
        Assert.Equal(7, m.MessageType);
    }

    [Fact]
    public void Replays_forgeries_and_other_epochs_are_refused_and_counted()
    {
        InstallView(KeyAgreementProtocol.Gdh, "#a#d", "#b#d");
        SecureGroupCore b = _cores["#b#d"];
        byte[] one = _cores["#a#d"].Seal(1, "one"u8)!;
        byte[] two = _cores["#a#d"].Seal(1, "two"u8)!;

        Assert.Single(DeliverData("#a#d", two, "#b#d"));
        Assert.Empty(DeliverData("#a#d", one, "#b#d"));
        Assert.Empty(DeliverData("#a#d", two, "#b#d"));
        Assert.Equal(2, b.Counters.Replays);

        byte[] three = _cores["#a#d"].Seal(1, "three"u8)!;
        byte[] tampered = (byte[])three.Clone();
        tampered[^1] ^= 1;
        Assert.Empty(DeliverData("#a#d", tampered, "#b#d"));
        Assert.Empty(DeliverData("#b#d", three, "#b#d"));
        Assert.Equal(2, b.Counters.Forged);

        InstallView(KeyAgreementProtocol.Gdh, "#a#d", "#b#d", "#c#d");
        Assert.Empty(DeliverData("#a#d", three, "#b#d"));
        Assert.Equal(1, b.Counters.OtherEpoch);
        Assert.Null(new SecureGroupCore(KeyAgreementFactory.Create(KeyAgreementProtocol.Gdh, Options("#e#d")), Group, "#e#d").Seal(1, "x"u8));
    }

    [Fact]
    public void Sealing_into_a_send_buffer_writes_exactly_the_sealed_length_and_opens_with_a_rising_sequence()
    {
        SecureGroupCore a = new(KeyAgreementFactory.Create(KeyAgreementProtocol.Gdh, Options("#a#d")), Group, "#a#d");
        _cores["#a#d"] = a;
        byte[] noKey = new byte[a.SealedLength(3)];
        Assert.False(a.TrySeal(1, "abc"u8, noKey));
        Assert.All(noKey, b => Assert.Equal(0, b));

        InstallView(KeyAgreementProtocol.Gdh, "#a#d", "#b#d");
        Assert.Equal(SealedFormat.HeaderSize + 3 + EpochCipher.TagSize, a.SealedLength(3));
        Assert.Throws<ArgumentException>(() => a.TrySeal(1, "abc"u8, new byte[a.SealedLength(3) + 1]));

        // A pooled buffer is larger than asked for: only the slice is written and sent.
        byte[] pooled = Enumerable.Repeat((byte)0xEE, 100).ToArray();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(a.TrySeal(2, Encoding.ASCII.GetBytes($"m{i}"), pooled.AsSpan(0, a.SealedLength(2))));
            Assert.All(pooled[a.SealedLength(2)..], b => Assert.Equal(0xEE, b));
            SecureMessage m = Assert.IsType<SecureMessage>(Assert.Single(DeliverData("#a#d", pooled[..a.SealedLength(2)], "#b#d")));
            Assert.Equal($"m{i}", Encoding.ASCII.GetString(m.Body.Span));
        }

        Assert.Equal(0, _cores["#b#d"].Counters.Replays);
    }

    public void Dispose()
    {
        foreach (SecureGroupCore core in _cores.Values)
        {
            core.Dispose();
        }

        foreach (MemberIdentity identity in _identities.Values)
        {
            identity.Dispose();
        }
    }

    /// <summary>Installs a Flush view at its members and runs key agreement to the end, broadcasts in one order to all.</summary>
    private SecureView[] InstallView(KeyAgreementProtocol protocol, params string[] members)
    {
        var view = new FlushView(Group, members, new GroupId(1, 1, ++_viewIndex), MembershipCause.Network, members, 0);
        var bus = new Queue<byte[]>();
        foreach (string m in members)
        {
            if (!_cores.TryGetValue(m, out SecureGroupCore? core))
            {
                core = new SecureGroupCore(KeyAgreementFactory.Create(protocol, Options(m)), Group, m);
                _cores[m] = core;
            }

            core.Handle(view);
            Move(core.Sends, bus);
        }

        while (bus.TryDequeue(out byte[]? wire))
        {
            foreach (string m in members)
            {
                _cores[m].Handle(new FlushDataMessage(Group, "?", ServiceType.Agreed, SecureGroupCore.KeyAgreementType, null, false, wire));
                Move(_cores[m].Sends, bus);
            }
        }

        SecureView[] views = [.. members.Select(m => Assert.IsType<SecureView>(Assert.Single(Drain(_cores[m]))))];
        Assert.All(members, m => Assert.True(_cores[m].HasKey));
        return views;
    }

    private IEnumerable<SecureEvent> DeliverData(string sender, byte[] sealedMessage, string receiver)
    {
        _cores[receiver].Handle(new FlushDataMessage(Group, sender, ServiceType.Agreed, SecureGroupCore.SealedType, null, false, sealedMessage));
        return Drain(_cores[receiver]);
    }

    private KeyAgreementOptions Options(string self) => new() { Group = Group, Self = self, Identity = _identities[self], Directory = _directory };

    /// <summary>Unicasts too go to everyone here: the module itself refuses those not addressed to it.</summary>
    private static void Move(Queue<KeyAgreementSend> from, Queue<byte[]> to)
    {
        while (from.TryDequeue(out KeyAgreementSend x))
        {
            to.Enqueue(x.Wire);
        }
    }

    private static List<SecureEvent> Drain(SecureGroupCore core)
    {
        var events = new List<SecureEvent>();
        while (core.Deliveries.TryDequeue(out SecureEvent? e))
        {
            events.Add(e);
        }

        return events;
    }
}
