using System.Text;
using Conclave.Client.Flush;
using Conclave.Client.Flush.Internal;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Flush;

/// <summary>FL's tails on the wire, through two sans-IO cores: subgroupcasts, vulnerable messages, closed groups.</summary>
public sealed class FlushWireTests
{
    private const string A = "#a#d";
    private const string B = "#b#d";
    private const string C = "#c#d";
    private static readonly GroupId View1 = new(1, 1, 1);
    private static readonly GroupId View2 = new(1, 1, 2);

    [Fact]
    public void A_subgroupcast_carries_the_reference_group_in_its_body_and_the_bit_in_its_type()
    {
        (FlushCore a, FlushCore b) = TwoMembersInSteadyView();

        Outgoing o = a.PrepareSend("g", ServiceType.Agreed, 9, "hi"u8, [B])!;
        Assert.Equal(ServiceType.Agreed | FlushWire.SubgroupCast, o.Service);
        Assert.Equal([B], o.Groups);
        Assert.Equal(9, o.MessageType);
        Assert.Equal(2 + 32, o.Body.Length);
        Assert.Equal("g", Encoding.ASCII.GetString(o.Body, 2, 1));

        b.Handle(new DataMessage(o.Service, A, o.Groups, o.MessageType, false, o.Body));
        FlushDataMessage m = Assert.IsType<FlushDataMessage>(b.Deliveries.Dequeue());
        Assert.Equal("g", m.Group);
        Assert.Equal([B], m.Receivers);
        Assert.Equal("hi", Encoding.ASCII.GetString(m.Body.Span));
        Assert.Throws<SpreadException>(() => a.PrepareSend("g", ServiceType.Agreed, 9, "x"u8, [C]));
    }

    [Fact]
    public void A_weak_send_before_every_member_confirmed_the_view_is_vulnerable_and_held_by_a_member_still_flushing()
    {
        // a installs view 2 first (it saw both FLUSH_OKs) and sends FIFO before b saw a's FLUSH_OK.
        (FlushCore a, FlushCore b) = TwoMembersInSteadyView();
        a.Handle(Membership(View2, [A, B, C], A, C));
        b.Handle(Membership(View2, [A, B, C], B, C));
        Assert.IsType<FlushRequest>(Assert.Single(Drain(b)));
        Outgoing okA = Sent(a), okB = Sent(b);
        var c = new FlushCore(C, autoFlushOk: true);
        c.Handle(Membership(View2, [A, B, C], C, C));
        Outgoing okC = Sent(c);
        foreach ((Outgoing ok, string from) in new[] { (okA, A), (okB, B), (okC, C) })
        {
            Deliver(a, ok, from);
        }

        Assert.IsType<FlushView>(Drain(a).Last());
        Outgoing recvA = Sent(a);
        Assert.Equal(FlushWire.FlushRecv, recvA.MessageType);
        Outgoing weak = a.PrepareSend("g", ServiceType.Fifo, 4, "early"u8, null)!;
        Assert.Equal(FlushWire.Vulnerable, weak.MessageType);
        Outgoing strong = a.PrepareSend("g", ServiceType.Agreed, 4, "agreed"u8, null)!;
        Assert.Equal(4, strong.MessageType);

        // b gets a's vulnerable message before the FLUSH_OKs it still needs: held, then delivered in view 2.
        Deliver(b, okB, B);
        Deliver(b, weak, A);
        Assert.Empty(Drain(b));
        Deliver(b, okA, A);
        Deliver(b, okC, C);
        List<FlushEvent> events = Drain(b);
        Assert.IsType<FlushView>(events[0]);
        FlushDataMessage early = Assert.IsType<FlushDataMessage>(events[1]);
        Assert.Equal(4, early.MessageType);
        Assert.Equal("early", Encoding.ASCII.GetString(early.Body.Span));
    }

    [Fact]
    public void A_joiner_that_dies_before_flushing_collapses_the_change_into_the_next_one()
    {
        (FlushCore a, FlushCore b) = TwoMembersInSteadyView();
        var view3 = new GroupId(1, 1, 3);
        a.Handle(Membership(View2, [A, B, C], A, C));
        b.Handle(Membership(View2, [A, B, C], B, C));
        Outgoing okA = Sent(a), okB = Sent(b);
        foreach (FlushCore core in new[] { a, b })
        {
            Assert.IsType<FlushRequest>(Assert.Single(Drain(core)));
            Deliver(core, okA, A);
            Deliver(core, okB, B);
            Assert.Empty(Drain(core));

            // C disconnects before its FLUSH_OK: view 2 can never complete, view 3 takes over without a new request.
            core.Handle(new MembershipMessage(ServiceType.RegularMembership | ServiceType.CausedByDisconnect, "g", [A, B], view3, [[C]], 0, core == a ? 0 : 1));
            Assert.Empty(Drain(core));
        }

        Outgoing again = Sent(a);
        Assert.Equal(view3, GroupId.Read(again.Body, bigEndian: false));
        Outgoing againB = Sent(b);
        foreach (FlushCore core in new[] { a, b })
        {
            Deliver(core, again, A);
            Deliver(core, againB, B);
            FlushView installed = Assert.IsType<FlushView>(Assert.Single(Drain(core)));
            Assert.Equal(view3, installed.GroupId);
            Assert.Equal(MembershipCause.Network, installed.Cause);
            Assert.Equal([A, B], installed.VsSet);
        }
    }

    [Fact]
    public void Messages_from_outside_the_view_are_not_delivered()
    {
        (FlushCore a, _) = TwoMembersInSteadyView();
        a.Handle(new DataMessage(ServiceType.Agreed, C, ["g"], 1, false, [1, 2, 3]));
        a.Handle(new DataMessage(ServiceType.Agreed, B, ["g"], 1, false, [1, 2, 3]));
        FlushDataMessage m = Assert.IsType<FlushDataMessage>(Assert.Single(Drain(a)));
        Assert.Equal(B, m.Sender);

        // Not delivered, but counted with the reason: a message missing at the application can be told from a lost one.
        a.Handle(new DataMessage(ServiceType.Agreed, B, ["other"], 1, false, [1, 2, 3]));
        Assert.Empty(Drain(a));
        Assert.Equal(1, a.Drops.SenderOutsideView);
        Assert.Contains(C, a.Drops.LastSenderOutsideView, StringComparison.Ordinal);
        Assert.Equal(1, a.Drops.UnknownGroup);
        Assert.Equal(0, a.Drops.HeldForAbandonedView);
        Assert.Equal(2, a.Drops.Total);
    }

    private static (FlushCore A, FlushCore B) TwoMembersInSteadyView()
    {
        var a = new FlushCore(A, autoFlushOk: true);
        var b = new FlushCore(B, autoFlushOk: true);
        a.Handle(Membership(View1, [A, B], A, B));
        b.Handle(Membership(View1, [A, B], B, B));
        Outgoing okA = Sent(a), okB = Sent(b);
        foreach (FlushCore core in new[] { a, b })
        {
            Deliver(core, okA, A);
            Deliver(core, okB, B);
        }

        Outgoing recvA = Sent(a), recvB = Sent(b);
        foreach (FlushCore core in new[] { a, b })
        {
            Deliver(core, recvA, A);
            Deliver(core, recvB, B);
            Drain(core);
            Assert.Equal(FlushPhase.Steady, core.Group("g")!.Phase);
        }

        return (a, b);
    }

    private static MembershipMessage Membership(GroupId id, string[] members, string self, string changed) =>
        new(ServiceType.RegularMembership | ServiceType.CausedByJoin, "g", members, id, [[changed]], 0, Array.IndexOf(members, self));

    private static Outgoing Sent(FlushCore core) => core.Sends.Dequeue();

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
