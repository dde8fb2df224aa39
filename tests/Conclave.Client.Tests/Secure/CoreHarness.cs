using Conclave.Client.Flush;
using Conclave.Client.Secure;
using Conclave.Client.Secure.Internal;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Secure;

/// <summary>Secure cores of several members fed the same Flush events, with key agreement broadcasts in one order to all.</summary>
internal sealed class CoreHarness : IDisposable
{
    public const string Group = "sg";
    private readonly Dictionary<string, MemberIdentity> _identities = [];
    private int _viewIndex;

    public CoreHarness(params string[] names)
    {
        foreach (string name in names)
        {
            var identity = MemberIdentity.Generate();
            _identities[name] = identity;
            Directory.Add(name, identity.PublicKey);
        }
    }

    public MemberDirectory Directory { get; } = new();

    public Dictionary<string, SecureGroupCore> Cores { get; } = [];

    public byte[] PublicKey(string name) => _identities[name].PublicKey;

    public SecureGroupCore Core(string name, KeyAgreementProtocol protocol, Func<SecureGroupOptions, SecureGroupOptions>? configure = null)
    {
        if (!Cores.TryGetValue(name, out SecureGroupCore? core))
        {
            SecureGroupOptions options = new() { Protocol = protocol, Identity = _identities[name], Directory = Directory };
            options = configure?.Invoke(options) ?? options;
            IGroupKeyAgreement module = KeyAgreementFactory.Create(protocol, new KeyAgreementOptions { Group = Group, Self = name, Identity = _identities[name], Directory = Directory, DhGroup = options.DhGroup });
            core = new SecureGroupCore(module, Group, name, options);
            Cores[name] = core;
        }

        return core;
    }

    /// <summary>Delivers a Flush view to its members and runs key agreement to the end.</summary>
    public Dictionary<string, List<SecureEvent>> InstallView(KeyAgreementProtocol protocol, MembershipCause cause, params string[] members) =>
        InstallView(protocol, cause, null, members);

    public Dictionary<string, List<SecureEvent>> InstallView(KeyAgreementProtocol protocol, MembershipCause cause, Func<SecureGroupOptions, SecureGroupOptions>? configure, params string[] members)
    {
        var view = new FlushView(Group, members, new GroupId(1, 1, ++_viewIndex), cause, members, 0);
        foreach (string m in members)
        {
            Core(m, protocol, configure).Handle(view);
        }

        Pump(members);
        return members.ToDictionary(m => m, m => Drain(Cores[m]));
    }

    /// <summary>Moves key agreement messages until none is left, each broadcast to every listed member in one order.</summary>
    public void Pump(IReadOnlyList<string> members)
    {
        var bus = new Queue<byte[]>();
        foreach (string m in members)
        {
            Move(Cores[m].Sends, bus);
        }

        while (bus.TryDequeue(out byte[]? wire))
        {
            foreach (string m in members)
            {
                Cores[m].Handle(new FlushDataMessage(Group, "?", ServiceType.Agreed, SecureGroupCore.KeyAgreementType, null, false, wire));
                Move(Cores[m].Sends, bus);
            }
        }
    }

    public List<SecureEvent> DeliverData(string sender, byte[] sealedMessage, string receiver)
    {
        Cores[receiver].Handle(new FlushDataMessage(Group, sender, ServiceType.Agreed, SecureGroupCore.SealedType, null, false, sealedMessage));
        return Drain(Cores[receiver]);
    }

    public static List<SecureEvent> Drain(SecureGroupCore core)
    {
        var events = new List<SecureEvent>();
        while (core.Deliveries.TryDequeue(out SecureEvent? e))
        {
            events.Add(e);
        }

        return events;
    }

    public void Dispose()
    {
        foreach (SecureGroupCore core in Cores.Values)
        {
            core.Dispose();
        }

        foreach (MemberIdentity identity in _identities.Values)
        {
            identity.Dispose();
        }
    }

    /// <summary>Unicasts too go to everyone here: the module itself refuses those not addressed to it.</summary>
    private static void Move(Queue<KeyAgreementSend> from, Queue<byte[]> to)
    {
        while (from.TryDequeue(out KeyAgreementSend x))
        {
            to.Enqueue(x.Wire);
        }
    }
}
