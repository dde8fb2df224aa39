using Conclave.Client.Flush;
using Conclave.Client.Flush.Internal;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Flush;

/// <summary>
/// A partition that heals before its views are installed (token loss under load): each side's messages sent meanwhile
/// never reach the other. The Flush layer must drop them where they do arrive (counted, not silently), and the views
/// it then installs must say so: a view without the other side, then the merged one with a vs-set that leaves it out.
/// (The churn tests' strict wait relies on exactly this to tell a legitimate gap from a lost message.)
/// </summary>
public sealed class FlushBriefPartitionTests
{
    private const string A = "#a#d1";
    private const string B = "#b#d2";
    private static readonly GroupId Both = new(1, 1, 1);
    private static readonly GroupId AAlone = new(1, 2, 1);
    private static readonly GroupId Merged = new(1, 3, 1);

    [Fact]
    public void Messages_across_a_brief_partition_are_dropped_counted_and_the_views_show_the_gap()
    {
        FlushCore a = new(A, autoFlushOk: true);
        a.MarkAgreedOnly("g");
        a.Handle(Network(Both, [A, B], [[A, B]], A));
        Outgoing okA = a.Sends.Dequeue();
        Deliver(a, okA, A);
        Deliver(a, new Outgoing(ServiceType.Fifo, ["g"], FlushWire.FlushOk, FlushWire.GroupIdBody(Both)), B);
        Assert.IsType<FlushView>(Drain(a).Last());

        // In the view of both: B's message is delivered.
        a.Handle(Data(B, 1));
        Assert.IsType<FlushDataMessage>(Assert.Single(Drain(a)));

        // The partition: A's daemon alone. A message B sent before it learnt of it, ordered at A's side after the
        // change (it came with the merge), is not delivered in the old view, and it is counted.
        a.Handle(new TransitionalMembershipMessage(ServiceType.TransitionMembership, "g", Both));
        a.Handle(Network(AAlone, [A], [[A]], A));
        Outgoing okAlone = a.Sends.Dequeue();
        a.Handle(Data(B, 2));
        Assert.DoesNotContain(Drain(a), e => e is FlushDataMessage);
        Assert.Equal(1, a.Drops.SenderOutsideView);
        Assert.Contains(B, a.Drops.LastSenderOutsideView, StringComparison.Ordinal);

        // The merge comes before A's own FLUSH_OK of the partition's view: both views are installed, in order, and the
        // merged one's vs-set leaves B out, so B's message 2 is a gap view synchrony allows.
        a.Handle(Network(Merged, [A, B], [[A], [B]], A));
        Deliver(a, okAlone, A);
        FlushView alone = Assert.IsType<FlushView>(Assert.Single(Drain(a), e => e is FlushView));
        Assert.Equal([A], alone.Members);
        Outgoing okMerged = a.Sends.Dequeue();
        Assert.Equal(Merged, GroupId.Read(okMerged.Body, bigEndian: false));
        Deliver(a, okMerged, A);
        Deliver(a, new Outgoing(ServiceType.Fifo, ["g"], FlushWire.FlushOk, FlushWire.GroupIdBody(Merged)), B);
        FlushView merged = Assert.IsType<FlushView>(Assert.Single(Drain(a), e => e is FlushView));
        Assert.Equal(Merged, merged.GroupId);
        Assert.Equal(MembershipCause.Network, merged.Cause);
        Assert.Equal([A], merged.VsSet);

        // In the merged view B is heard again.
        a.Handle(Data(B, 3));
        Assert.IsType<FlushDataMessage>(Assert.Single(Drain(a)));
        Assert.Equal(1, a.Drops.Total);
    }

    private static MembershipMessage Network(GroupId id, string[] members, IReadOnlyList<IReadOnlyList<string>> vsSets, string self) =>
        new(ServiceType.RegularMembership | ServiceType.CausedByNetwork, "g", members, id, vsSets, vsSets.ToList().FindIndex(s => s.Contains(self)), Array.IndexOf(members, self));

    private static DataMessage Data(string sender, byte n) => new(ServiceType.Agreed, sender, ["g"], 1, false, [n]);

    private static void Deliver(FlushCore core, Outgoing o, string from) =>
        core.Handle(new DataMessage(o.Service, from, o.Groups, o.MessageType, false, o.Body));

    private static List<FlushEvent> Drain(FlushCore core)
    {
        var events = new List<FlushEvent>();
        while (core.Deliveries.TryDequeue(out FlushEvent? e))
        {
            events.Add(e);
        }

        return events;
    }
}
