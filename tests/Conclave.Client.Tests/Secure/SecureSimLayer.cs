using Conclave.Client.Flush;
using Conclave.Client.Flush.Internal;
using Conclave.Client.Secure;
using Conclave.Client.Secure.Internal;
using Conclave.Client.Tests.Flush;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Secure;

/// <summary>
/// The secure layer on every process of an <see cref="EvsSimulator"/>: one <see cref="SecureGroupCore"/> per
/// membership, key agreement messages multicast AGREED (held sends wait, as in <see cref="SecureConnection"/>),
/// sealed messages and refreshes at seeded random moments, and a record of every key and message for the checks.
/// </summary>
internal sealed class SecureSimLayer : ILayer, IDisposable
{
    private readonly KeyAgreementProtocol _protocol;
    private readonly Random _rng;
    private readonly MemberDirectory _directory = new();
    private readonly Dictionary<string, MemberIdentity> _identities = [];
    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);

    public SecureSimLayer(KeyAgreementProtocol protocol, int seed, int processes)
    {
        _protocol = protocol;
        _rng = new Random(seed ^ 0x5EC0);
        for (int i = 0; i < processes; i++)
        {
            // Fixed seeds per name: the run is reproducible from the test's seed alone.
            var identity = MemberIdentity.FromSeed(Enumerable.Repeat((byte)(i + 1), 32).ToArray());
            _identities[$"#p{i}#d"] = identity;
            _directory.Add($"#p{i}#d", identity.PublicKey);
        }
    }

    /// <summary>When set, members only finish key agreement: no new messages or refreshes (lets the simulation settle).</summary>
    public bool Quiescing { get; set; }

    /// <summary>Every secure view delivered: who, the Flush view it belongs to, and the view.</summary>
    public List<(string Member, GroupId FlushView, SecureView View)> Views { get; } = [];

    public int SealedSent { get; private set; }

    public int Refreshes { get; private set; }

    public int SealedDeliveredByFlush { get; private set; }

    public int SecureMessagesDelivered { get; private set; }

    /// <summary>Key agreement runs abandoned because the membership changed under them.</summary>
    public int RunsCutShort { get; private set; }

    public string Rejections => string.Join("; ", _members.Values.SelectMany(m => m.Rejections));

    public IEnumerable<SecureGroupCounters> Counters => _members.Values.SelectMany(m => m.AllCounters);

    public Member? Of(string name) => _members.GetValueOrDefault(name);

    public void Deliver(EvsSimulator.Proc p, FlushEvent e)
    {
        if (!_members.TryGetValue(p.Name, out Member? m))
        {
            m = new Member(p.Name);
            _members[p.Name] = m;
        }

        if (e is FlushView && (m.Core is null || m.Core.Left))
        {
            m.NewCore(_protocol, _identities[p.Name], _directory);
        }

        if (m.Core is null)
        {
            return;
        }

        switch (e)
        {
            case FlushView v:
                if (m.Keying)
                {
                    RunsCutShort++;
                }

                m.FlushView = v.GroupId;
                m.FlushMembers = v.Members;
                m.Keying = true;
                break;
            case FlushDataMessage { MessageType: SecureGroupCore.SealedType }:
                SealedDeliveredByFlush++;
                break;
        }

        if (e is FlushDataMessage { MessageType: PrivateKeyAgreement.MessageType } unicast)
        {
            // What SecureConnection does with a key agreement unicast on its private group.
            Assert.Equal(p.Name, e.Group);
            if (!m.Core.Left && PrivateKeyAgreement.TryUnwrap(unicast.Body, out string group, out ReadOnlyMemory<byte> wire) && group == EvsSimulator.Group)
            {
                PrivateUnicastsDelivered++;
                m.Core.OnKeyAgreement(unicast.Sender, wire.Span);
            }
        }
        else
        {
            m.Core.Handle(e);
        }

        while (m.Core.Sends.TryDequeue(out KeyAgreementSend send))
        {
            m.Outbox.Enqueue(send);
        }

        while (m.Core.Deliveries.TryDequeue(out SecureEvent? s))
        {
            switch (s)
            {
                case SecureView view:
                    // The application sees a secure view only with its key, and only for the Flush view it is in.
                    Assert.True(m.Core.CurrentCipher is not null, $"{p.Name}: secure view without a key");
                    Assert.Equal(SecureGroupCore.ViewIdOf(m.FlushView), m.Core.CurrentCipher!.Epoch.ViewId);
                    Assert.Equal(m.FlushMembers, view.Members);
                    Views.Add((p.Name, m.FlushView, view));
                    m.Keying = false;
                    break;
                case SecureMessage:
                    SecureMessagesDelivered++;
                    break;
            }
        }
    }

    public bool Pump(EvsSimulator.Proc p)
    {
        if (!_members.TryGetValue(p.Name, out Member? m) || m.Core is null)
        {
            return false;
        }

        bool moved = false;
        FlushGroup? g = p.Core.Group(EvsSimulator.Group);
        if (g is null || !g.Joined || g.Leaving)
        {
            // SecureConnection's sender drops what a group it left can no longer carry.
            m.Outbox.Clear();
            return false;
        }

        // Key agreement messages go out one at a time at random moments, so membership changes land inside runs.
        while ((Quiescing || _rng.Next(5) == 0) && m.Outbox.TryPeek(out KeyAgreementSend send) && Send(p, send))
        {
            m.Outbox.Dequeue();
            moved = true;
        }

        if (Quiescing || m.Core.Left)
        {
            return moved;
        }

        int roll = _rng.Next(100);
        if (roll < 30 && m.Core.KeyedView is GroupId keyed && keyed == g.View.Id && g.Phase != FlushPhase.Agree)
        {
            // What SecureConnection.SendAsync does through TrySendInViewAsync.
            Assert.Equal(m.FlushMembers, g.View.Members);
            byte[] sealedMessage = m.Core.Seal(1, BitConverter.GetBytes(SealedSent))!;
            Assert.True(Sim.Multicast(p, ServiceType.Agreed, SecureGroupCore.SealedType, sealedMessage));
            SealedSent++;
            moved = true;
        }
        else if (roll < 33 && m.Core.RequestRefresh())
        {
            Refreshes++;
            while (m.Core.Sends.TryDequeue(out KeyAgreementSend send))
            {
                m.Outbox.Enqueue(send);
            }

            while (m.Core.Deliveries.TryDequeue(out SecureEvent? s))
            {
                Views.Add((p.Name, m.FlushView, Assert.IsType<SecureView>(s)));
            }
        }

        return moved;
    }

    public EvsSimulator Sim { get; set; } = null!;

    /// <summary>Key agreement unicasts that reached their addressee through its private group.</summary>
    public int PrivateUnicastsDelivered { get; private set; }

    /// <summary>Key agreement unicasts dropped unsent because their view was over (as SecureConnection drops them).</summary>
    public int StaleUnicastsDropped { get; private set; }


    /// <summary>Sends one key agreement message as SecureConnection does; false while the Flush layer holds it.</summary>
    private bool Send(EvsSimulator.Proc p, KeyAgreementSend send)
    {
        if (send.To is null)
        {
            return Sim.Multicast(p, ServiceType.Agreed, SecureGroupCore.KeyAgreementType, send.Wire);
        }

        if (p.Core.Group(EvsSimulator.Group)?.View.Id != send.View)
        {
            StaleUnicastsDropped++;
            return true;
        }

        return Sim.SendPrivate(p, send.To, ServiceType.Agreed, PrivateKeyAgreement.MessageType, PrivateKeyAgreement.Wrap(EvsSimulator.Group, send.Wire));
    }

    public void Dispose()
    {
        foreach (Member m in _members.Values)
        {
            m.Dispose();
        }

        foreach (MemberIdentity identity in _identities.Values)
        {
            identity.Dispose();
        }
    }

    internal sealed class Member(string name) : IDisposable
    {
        private readonly List<SecureGroupCore> _cores = [];

        public string Name { get; } = name;

        public SecureGroupCore? Core { get; private set; }

        public Queue<KeyAgreementSend> Outbox { get; } = new();

        public GroupId FlushView { get; set; }

        public IReadOnlyList<string> FlushMembers { get; set; } = [];

        /// <summary>True between a Flush view and its secure view.</summary>
        public bool Keying { get; set; }

        public IEnumerable<SecureGroupCounters> AllCounters => _cores.Select(c => c.Counters);

        public IEnumerable<string> Rejections => _cores.Where(c => c.Counters.KeyAgreementRejected > 0).Select(c => $"{Name}: {c.LastRejection}");

        public void NewCore(KeyAgreementProtocol protocol, MemberIdentity identity, MemberDirectory directory)
        {
            // A member that left joins again as a new member: a fresh module and core, as SecureConnection.JoinAsync makes.
            Outbox.Clear();
            Keying = false;
            IGroupKeyAgreement module = KeyAgreementFactory.Create(protocol, new KeyAgreementOptions { Group = EvsSimulator.Group, Self = Name, Identity = identity, Directory = directory });
            Core = new SecureGroupCore(module, EvsSimulator.Group, Name, new SecureGroupOptions { Protocol = protocol, Identity = identity, Directory = directory });
            _cores.Add(Core);
        }

        public void Dispose()
        {
            foreach (SecureGroupCore c in _cores)
            {
                c.Dispose();
            }
        }
    }
}
