using Conclave.Client.Flush;
using Conclave.Client.Flush.Internal;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Flush;

/// <summary>
/// Agreed-only groups (the Flush mode of secure groups): a view is installed straight into Steady with no FLUSH_RECV
/// round, weak-service sends are refused, and a plain member of the same group keeps FL's full exchange.
/// </summary>
public sealed class FlushAgreedOnlyTests
{
    private const string A = "#a#d";
    private const string B = "#b#d";
    private static readonly GroupId View1 = new(1, 1, 1);

    [Fact]
    public void An_agreed_only_member_installs_the_view_steady_and_sends_no_flush_recv()
    {
        var a = new FlushCore(A, autoFlushOk: true);
        a.MarkAgreedOnly("g");
        var b = new FlushCore(B, autoFlushOk: true);
        a.Handle(Membership(View1, [A, B], A));
        b.Handle(Membership(View1, [A, B], B));
        Outgoing okA = a.Sends.Dequeue(), okB = b.Sends.Dequeue();
        Assert.Equal(FlushWire.FlushOk, okA.MessageType);
        foreach (FlushCore core in new[] { a, b })
        {
            Deliver(core, okA, A);
            Deliver(core, okB, B);
            Assert.IsType<FlushView>(core.Deliveries.Last());
        }

        Assert.Empty(a.Sends);
        Assert.Equal(FlushPhase.Steady, a.Group("g")!.Phase);

        // The plain member still confirms the view and waits for every confirmation; a's absence only keeps it in Verify.
        Outgoing recvB = Assert.Single(b.Sends);
        Assert.Equal(FlushWire.FlushRecv, recvB.MessageType);
        Assert.Equal(FlushPhase.Verify, b.Group("g")!.Phase);
        Deliver(a, recvB, B);
        Assert.Equal(FlushPhase.Steady, a.Group("g")!.Phase);
    }

    [Fact]
    public void An_agreed_only_group_refuses_weak_services_and_sends_agreed_untagged()
    {
        var a = new FlushCore(A, autoFlushOk: true);
        a.MarkAgreedOnly("g");
        a.Handle(Membership(View1, [A], A));
        Deliver(a, a.Sends.Dequeue(), A);
        Assert.IsType<FlushView>(a.Deliveries.Last());

        foreach (ServiceType weak in new[] { ServiceType.Fifo, ServiceType.Reliable, ServiceType.Unreliable })
        {
            SpreadException e = Assert.Throws<SpreadException>(() => a.PrepareSend("g", weak, 5, "x"u8, null));
            Assert.Equal(SpreadError.IllegalService, e.Error);
        }

        Outgoing agreed = a.PrepareSend("g", ServiceType.Agreed, 5, "x"u8, null)!;
        Assert.Equal(5, agreed.MessageType);
        Outgoing safe = a.PrepareSend("g", ServiceType.Safe, 5, "x"u8, null)!;
        Assert.Equal(5, safe.MessageType);
    }

    [Fact]
    public void The_mark_ends_with_the_membership_so_a_plain_rejoin_confirms_views_again()
    {
        var a = new FlushCore(A, autoFlushOk: true);
        a.MarkAgreedOnly("g");
        a.Handle(Membership(View1, [A], A));
        Deliver(a, a.Sends.Dequeue(), A);
        Assert.Empty(a.Sends);
        a.Leave("g");
        a.Handle(new SelfLeaveMessage(ServiceType.RegularMembership | ServiceType.CausedByLeave, "g"));

        var view2 = new GroupId(1, 1, 2);
        a.Handle(Membership(view2, [A], A));
        Deliver(a, a.Sends.Dequeue(), A);
        Assert.Equal(FlushWire.FlushRecv, Assert.Single(a.Sends).MessageType);
    }

    private static MembershipMessage Membership(GroupId id, string[] members, string self) =>
        new(ServiceType.RegularMembership | ServiceType.CausedByJoin, "g", members, id, [[self]], 0, Array.IndexOf(members, self));

    private static void Deliver(FlushCore core, Outgoing o, string from) =>
        core.Handle(new DataMessage(o.Service, from, o.Groups, o.MessageType, false, o.Body));
}
