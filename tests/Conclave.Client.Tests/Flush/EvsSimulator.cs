using System.Buffers.Binary;
using Conclave.Client.Flush;
using Conclave.Client.Flush.Internal;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Flush;

/// <summary>
/// A seeded model of Spread's extended virtual synchrony for one group, driving one <see cref="FlushCore"/>
/// per process: components with a totally ordered log each, lightweight joins, leaves and disconnects, and
/// partitions and merges with transitional sets (members moving together deliver the same prefix of the old
/// log, which covers everything they sent). Every process consumes its own log at its own pace.
/// </summary>
internal sealed partial class EvsSimulator
{
    public const string Group = "g";

    private readonly Random _rng;
    private readonly List<Proc> _procs = [];
    private readonly List<Component> _components = [];
    private int _gidTime = 1;

    public EvsSimulator(int seed, int processes)
    {
        _rng = new Random(seed);
        var everyone = new Component();
        _components.Add(everyone);
        for (int i = 0; i < processes; i++)
        {
            var p = new Proc(i, $"#p{i}#d", everyone);
            p.Segments.Add(new Segment(everyone.Log));
            _procs.Add(p);
            everyone.Procs.Add(p);
        }
    }

    public IReadOnlyList<Proc> Procs => _procs;

    /// <summary>A layer above the Flush cores (the secure layer's tests): sees every delivery, sends when pumped.</summary>
    public ILayer? Layer { get; init; }

    public List<string> Events { get; } = [];

    /// <summary>Every process joins the group agreed-only (as secure groups do): no FLUSH_RECV round, AGREED and SAFE sends only.</summary>
    public bool AgreedOnly { get; init; }

    /// <summary>Every process joins agreed-only with the coordinator exchange (FLUSH_OK unicast to the view's first member, ALL_FLUSHED multicast).</summary>
    public bool Coordinated { get; init; }

    public int HeldSends { get; private set; }

    /// <summary>FLUSH_OKs multicast to the group (none in a <see cref="Coordinated"/> history, where they are ALL_FLUSHEDs).</summary>
    public int FlushOkMulticasts { get; private set; }

    /// <summary>FLUSH_OKs sent to a private group (the coordinator exchange).</summary>
    public int FlushOkUnicasts { get; private set; }

    /// <summary>FLUSH_OKs a process re-sent to another coordinator before installing any view (a cascade moved the coordinator).</summary>
    public int CoordinatorHandOvers { get; private set; }

    /// <summary>FLUSH_RECVs the cores sent (none in an <see cref="AgreedOnly"/> history).</summary>
    public int FlushRecvsSent { get; private set; }

    public int InstalledViews => _procs.Sum(p => p.Views.Count);

    public void Step()
    {
        int roll = _rng.Next(100);
        Proc p = _procs[_rng.Next(_procs.Count)];
        if (p.Crashed)
        {
            return;
        }

        switch (roll)
        {
            case < 45:
                DeliverOne(p);
                break;
            case < 65:
                TrySend(p);
                break;
            case < 75:
                AnswerFlush(p);
                break;
            case < 81:
                Join(p);
                break;
            case < 85:
                Leave(p);
                break;
            case < 86:
                Disconnect(p);
                break;
            case < 93:
                Events.Add($"partition {_gidTime}");
                Partition(p.Component);
                break;
            default:
                Events.Add($"merge {_gidTime}");
                Merge();
                break;
        }

        if (Layer is not null && !p.Crashed)
        {
            Layer.Pump(p);
        }
    }

    /// <summary>Multicasts for the layer above; false if the Flush core holds the send (between FLUSH_OK and the view).</summary>
    public bool Multicast(Proc p, ServiceType service, short messageType, byte[] body)
    {
        Outgoing? o = p.Core.PrepareSend(Group, service, messageType, body, null);
        if (o is null)
        {
            return false;
        }

        Append(p.Component, new DataEntry(p.Name, o));
        return true;
    }

    /// <summary>
    /// Sends to the private group <paramref name="to"/> for the layer above, with a Flush multicast's holding rule: false
    /// (held) between our FLUSH_OK and the next view. Spread orders it with the component's other messages and
    /// delivers it to that one process only, if it is in the sender's component.
    /// </summary>
    public bool SendPrivate(Proc p, string to, ServiceType service, short messageType, byte[] body)
    {
        FlushGroup? g = p.Core.Group(Group);
        if (g is not null && g.Phase == FlushPhase.Agree)
        {
            return false;
        }

        var entry = new DataEntry(p.Name, new Outgoing(service, [to], messageType, body));
        if (p.Component.Procs.Any(q => q.Name == to))
        {
            entry.Recipients.Add(to);
        }

        p.Component.Log.Add(entry);
        return true;
    }

    /// <summary>Stops changes and runs every process until nothing moves.</summary>
    public void Quiesce()
    {
        bool moved = true;
        while (moved)
        {
            moved = false;
            foreach (Proc p in _procs.Where(p => !p.Crashed))
            {
                moved |= AnswerFlush(p);
                while (DeliverOne(p))
                {
                    moved = true;
                }

                moved |= p.Held.Count > 0 && TrySend(p);
                moved |= Layer?.Pump(p) ?? false;
            }
        }
    }

    private bool DeliverOne(Proc p)
    {
        while (true)
        {
            Segment s = p.Segments[0];
            if (p.Position < s.Log.Count && (s.End is null || p.Position < s.End))
            {
                break;
            }

            if (s.End is null)
            {
                return false;
            }

            p.Segments.RemoveAt(0);
            p.Position = 0;
        }

        Entry entry = p.Segments[0].Log[p.Position++];
        if (!entry.Recipients.Contains(p.Name))
        {
            return true;
        }

        p.Trace.Add("<" + entry.GetType().Name + ":" + entry.Origin + (entry is MembershipEntry me ? me.Id.ToString() : entry is NetworkEntry ne ? ne.Id.ToString() : ""));

        foreach (SpreadMessage m in entry.To(p.Name))
        {
            p.Core.Handle(m);
            Drain(p);
        }

        return true;
    }

    private void Drain(Proc p)
    {
        while (p.Core.Sends.TryDequeue(out Outgoing? o))
        {
            FlushRecvsSent += o.MessageType == FlushWire.FlushRecv ? 1 : 0;
            if (o.Groups[0] != Group)
            {
                // To a private group: Spread orders it with everything else and hands it to that process only.
                if (o.MessageType == FlushWire.FlushOk)
                {
                    FlushOkUnicasts++;
                    CoordinatorHandOvers += p.LastFlushOk is (string before, int views) && before != o.Groups[0] && views == p.Views.Count ? 1 : 0;
                    p.LastFlushOk = (o.Groups[0], p.Views.Count);
                }

                var entry = new DataEntry(p.Name, o);
                if (p.Component.Procs.Any(q => q.Name == o.Groups[0]))
                {
                    entry.Recipients.Add(o.Groups[0]);
                }

                p.Component.Log.Add(entry);
                continue;
            }

            FlushOkMulticasts += o.MessageType == FlushWire.FlushOk ? 1 : 0;
            Append(p.Component, new DataEntry(p.Name, o));
        }

        while (p.Core.Deliveries.TryDequeue(out FlushEvent? e))
        {
            p.Observe(e);
            Layer?.Deliver(p, e);
            if (e is FlushRequest)
            {
                p.FlushAnswerDue = true;
            }
        }
    }

    private bool TrySend(Proc p)
    {
        FlushGroup? g = p.Core.Group(Group);
        if (g is null || !g.Joined || g.Leaving)
        {
            return false;
        }

        bool sent = false;
        if (p.Held.Count == 0)
        {
            p.Held.Add(_rng.Next(3) switch
            {
                0 => AgreedOnly || Coordinated ? ServiceType.Safe : ServiceType.Fifo,
                1 => ServiceType.Agreed,
                _ => AgreedOnly || Coordinated ? ServiceType.Safe : ServiceType.Reliable,
            });
        }

        while (p.Held.Count > 0)
        {
            var body = new byte[8 + GroupId.Size];
            BinaryPrimitives.WriteInt32LittleEndian(body, p.Index);
            BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(4), p.NextSeq);
            g.View.Id.Write(body.AsSpan(8));
            Outgoing? o = p.Core.PrepareSend(Group, p.Held[0], 1, body, null);
            if (o is null)
            {
                // Held: only legal between our FLUSH_OK and the next view.
                if (g.Phase != FlushPhase.Agree)
                {
                    throw new InvalidOperationException($"{p.Name}: send held in phase {g.Phase}");
                }

                HeldSends++;
                return sent;
            }

            if (p.FlushedInView == p.CurrentView && p.FlushedInView is not null)
            {
                throw new InvalidOperationException($"{p.Name}: a send went out after FLUSH_OK, before the next view");
            }

            p.NextSeq++;
            p.Held.RemoveAt(0);
            p.Sent.Add((p.CurrentView!.Value, (p.Index, p.NextSeq - 1)));
            Append(p.Component, new DataEntry(p.Name, o));
            sent = true;
        }

        return sent;
    }

    private bool AnswerFlush(Proc p)
    {
        FlushGroup? g = p.Core.Group(Group);
        if (!p.FlushAnswerDue || g is null || g.Phase != FlushPhase.Authorize || g.Leaving)
        {
            return false;
        }

        p.FlushAnswerDue = false;
        p.FlushedInView = p.CurrentView;
        p.Core.FlushOk(Group);
        Drain(p);
        return true;
    }

    private void Join(Proc p)
    {
        if (p.Core.Group(Group) is not null || p.Component.Members.Contains(p.Name))
        {
            return;
        }

        if (AgreedOnly || Coordinated)
        {
            p.Core.MarkAgreedOnly(Group, Coordinated);
        }

        Component c = p.Component;
        c.Members.Add(p.Name);
        Append(c, new MembershipEntry(p.Name, ServiceType.CausedByJoin, Members(c), NextGid(), [[p.Name]], Leaver: null));
    }

    private void Leave(Proc p)
    {
        FlushGroup? g = p.Core.Group(Group);
        if (g is null || !g.Joined || g.Leaving || !p.Component.Members.Contains(p.Name))
        {
            return;
        }

        p.Core.Leave(Group);
        Component c = p.Component;
        Append(c, new MembershipEntry(p.Name, ServiceType.CausedByLeave, [.. Members(c).Where(m => m != p.Name)], NextGid(), [[p.Name]], Leaver: p.Name));
        c.Members.Remove(p.Name);
    }

    private void Disconnect(Proc p)
    {
        p.Crashed = true;
        Component c = p.Component;
        c.Procs.Remove(p);
        if (c.Members.Remove(p.Name))
        {
            Append(c, new MembershipEntry(p.Name, ServiceType.CausedByDisconnect, Members(c), NextGid(), [[p.Name]], Leaver: null));
        }
    }

    private GroupId NextGid() => new(1, _gidTime++, 1);

    private static string[] Members(Component c) => [.. c.Members.Order(StringComparer.Ordinal)];

    private static void Append(Component c, Entry e)
    {
        e.Recipients.UnionWith(c.Members);
        if (e is MembershipEntry { Leaver: string leaver })
        {
            e.Recipients.Add(leaver);
        }

        c.Log.Add(e);
    }
}

/// <summary>What a layer above the simulated Flush cores implements.</summary>
internal interface ILayer
{
    /// <summary>Sees a Flush event delivered to <paramref name="p"/> (must not send from here).</summary>
    void Deliver(EvsSimulator.Proc p, FlushEvent e);

    /// <summary>Lets <paramref name="p"/>'s layer send what it has; true if anything moved.</summary>
    bool Pump(EvsSimulator.Proc p);
}
