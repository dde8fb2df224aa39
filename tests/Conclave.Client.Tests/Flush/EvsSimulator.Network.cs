using System.Buffers.Binary;
using Conclave.Client.Flush;
using Conclave.Client.Flush.Internal;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Flush;

internal sealed partial class EvsSimulator
{
    /// <summary>Splits a component in two; each part keeps a prefix of the old log that covers what its members sent.</summary>
    private void Partition(Component c)
    {
        if (c.Procs.Count < 2)
        {
            return;
        }

        List<Proc> shuffled = [.. c.Procs.OrderBy(_ => _rng.Next())];
        int cut = _rng.Next(1, shuffled.Count);
        _components.Remove(c);
        foreach (List<Proc> part in new[] { shuffled[..cut], shuffled[cut..] })
        {
            var names = part.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            // A configuration's membership reaches every process in it before anything sent in it.
            int low = c.Log.Count > 0 && c.Log[0] is NetworkEntry ? 1 : 0;
            for (int i = 0; i < c.Log.Count; i++)
            {
                if (names.Contains(c.Log[i].Origin))
                {
                    low = i + 1;
                }
            }

            foreach (Proc p in part)
            {
                if (ReferenceEquals(p.Segments[0].Log, c.Log))
                {
                    low = Math.Max(low, p.Position);
                }
            }

            int end = _rng.Next(low, c.Log.Count + 1);
            Events.Add($"[part {string.Join(",", names)} low {low} end {end} of {c.Log.Count} members {string.Join(",", c.Members)} seen {string.Join(",", c.MembersAt(end))}]");
            var next = new Component();
            next.Procs.AddRange(part);
            next.Members.UnionWith(c.Members.Where(names.Contains));
            _components.Add(next);
            next.InitialMembers.UnionWith(next.Members);

            // Compare with the group as this part last saw it: the membership in force at its cut.
            HashSet<string> seen = c.MembersAt(end);
            bool changed = next.Members.Count > 0 && !next.Members.SetEquals(seen);
            if (changed)
            {
                string[] members = Members(next);
                next.Log.Add(new NetworkEntry(NextGid(), members, [members], Transitional: true));
                next.Log[0].Recipients.UnionWith(members);
            }

            foreach (Proc p in part)
            {
                p.Segments[^1].End = end;
                p.Segments.Add(new Segment(next.Log));
                p.Component = next;
            }
        }
    }

    /// <summary>Merges two components; each side first delivers the rest of its log.</summary>
    private void Merge()
    {
        if (_components.Count < 2)
        {
            return;
        }

        Component a = _components[_rng.Next(_components.Count)];
        Component b = _components.Where(x => x != a).ElementAt(_rng.Next(_components.Count - 1));
        _components.Remove(a);
        _components.Remove(b);
        var next = new Component();
        next.Procs.AddRange(a.Procs.Concat(b.Procs));
        next.Members.UnionWith(a.Members.Concat(b.Members));
        next.InitialMembers.UnionWith(next.Members);
        _components.Add(next);
        if (a.Members.Count > 0 && b.Members.Count > 0)
        {
            string[][] vsSets = [.. new[] { a, b }.Select(Members).OrderBy(s => s[0], StringComparer.Ordinal)];
            string[] members = Members(next);
            next.Log.Add(new NetworkEntry(NextGid(), members, vsSets, Transitional: false));
            next.Log[0].Recipients.UnionWith(members);
        }

        foreach (Proc p in next.Procs)
        {
            p.Segments[^1].End = p.Segments[^1].Log.Count;
            p.Segments.Add(new Segment(next.Log));
            p.Component = next;
        }
    }

    internal sealed class Component
    {
        public List<Entry> Log { get; } = [];

        public HashSet<string> Members { get; } = new(StringComparer.Ordinal);

        public List<Proc> Procs { get; } = [];

        /// <summary>The group's members when the component formed (before its log's first entry).</summary>
        public HashSet<string> InitialMembers { get; } = new(StringComparer.Ordinal);

        public HashSet<string> MembersAt(int end)
        {
            for (int i = end - 1; i >= 0; i--)
            {
                switch (Log[i])
                {
                    case MembershipEntry m:
                        return m.Members.ToHashSet(StringComparer.Ordinal);
                    case NetworkEntry n:
                        return n.Members.ToHashSet(StringComparer.Ordinal);
                }
            }

            return InitialMembers;
        }
    }

    internal sealed class Segment(List<Entry> log)
    {
        public List<Entry> Log { get; } = log;

        public int? End { get; set; }
    }

    internal abstract record Entry(string Origin)
    {
        public HashSet<string> Recipients { get; init; } = new(StringComparer.Ordinal);

        public abstract IEnumerable<SpreadMessage> To(string receiver);
    }

    internal sealed record DataEntry(string Origin, Outgoing Message) : Entry(Origin)
    {
        public override IEnumerable<SpreadMessage> To(string receiver) =>
            [new DataMessage(Message.Service, Origin, Message.Groups, Message.MessageType, false, Message.Body)];
    }

    internal sealed record MembershipEntry(string Origin, ServiceType Cause, string[] Members, GroupId Id, string[][] VsSets, string? Leaver) : Entry(Origin)
    {
        public override IEnumerable<SpreadMessage> To(string receiver) => receiver == Leaver
            ? [new SelfLeaveMessage(ServiceType.CausedByLeave, Group)]
            : [new MembershipMessage(ServiceType.RegularMembership | Cause, Group, Members, Id, VsSets, 0, Array.IndexOf(Members, receiver))];
    }

    internal sealed record NetworkEntry(GroupId Id, string[] Members, string[][] VsSets, bool Transitional) : Entry("")
    {
        public override IEnumerable<SpreadMessage> To(string receiver)
        {
            if (Transitional)
            {
                yield return new TransitionalMembershipMessage(ServiceType.TransitionMembership, Group, default);
            }

            int local = Array.FindIndex(VsSets, s => s.Contains(receiver));
            yield return new MembershipMessage(ServiceType.RegularMembership | ServiceType.CausedByNetwork, Group, Members, Id, VsSets, local, Array.IndexOf(Members, receiver));
        }
    }

    internal sealed class Proc(int index, string name, Component component)
    {
        public int Index { get; } = index;

        public string Name { get; } = name;

        public FlushCore Core { get; } = new(name, autoFlushOk: false);

        public Component Component { get; set; } = component;

        public List<Segment> Segments { get; } = [];

        public int Position { get; set; }

        public bool Crashed { get; set; }

        public bool FlushAnswerDue { get; set; }

        public GroupId? FlushedInView { get; set; }

        /// <summary>Where this process sent its last FLUSH_OK of the coordinator exchange, and how many views it had installed then.</summary>
        public (string To, int Views)? LastFlushOk { get; set; }

        public GroupId? CurrentView { get; private set; }

        public int NextSeq { get; set; }

        public List<ServiceType> Held { get; } = [];

        /// <summary>Messages sent, with the view they were sent in.</summary>
        public List<(GroupId View, (int Sender, int Seq) Id)> Sent { get; } = [];

        /// <summary>Installed views in order: id, members, and the messages delivered in it (with their sending view).</summary>
        public List<ViewRecord> Views { get; } = [];

        public List<string> Trace { get; } = [];

        public void Observe(FlushEvent e)
        {
            Trace.Add(e.GetType().Name);
            switch (e)
            {
                case FlushView v:
                    Views.Add(new ViewRecord(v.GroupId, v.Members, CurrentView) { VsSet = [.. v.VsSet.Order(StringComparer.Ordinal)] });
                    CurrentView = v.GroupId;
                    break;
                case FlushDataMessage { MessageType: 1 } d:
                    ReadOnlySpan<byte> body = d.Body.Span;
                    var sentIn = GroupId.Read(body[8..], bigEndian: false);
                    Views[^1].Delivered.Add((BinaryPrimitives.ReadInt32LittleEndian(body), BinaryPrimitives.ReadInt32LittleEndian(body[4..])));
                    if (sentIn != CurrentView)
                    {
                        throw new InvalidOperationException($"{Name}: message sent in view {sentIn} delivered in view {CurrentView}");
                    }

                    break;
                case FlushTransitionalSignal when Views.Count > 0:
                    Views[^1].Transitional = true;
                    break;
                case FlushSelfLeave:
                    Views.Add(new ViewRecord(default, [], CurrentView));
                    CurrentView = null;
                    break;
            }
        }
    }

    internal sealed record ViewRecord(GroupId Id, IReadOnlyList<string> Members, GroupId? Previous)
    {
        /// <summary>Gets the view's vs-set, sorted.</summary>
        public IReadOnlyList<string> VsSet { get; init; } = [];

        /// <summary>Gets or sets a value indicating whether a transitional signal was delivered in this view.</summary>
        public bool Transitional { get; set; }

        public HashSet<(int Sender, int Seq)> Delivered { get; } = [];
    }
}
