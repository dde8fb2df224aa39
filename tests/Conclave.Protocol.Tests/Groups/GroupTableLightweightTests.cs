using Conclave.Protocol.Groups;
using Conclave.Protocol.Spread;

namespace Conclave.Protocol.Tests.Groups;

/// <summary>Join, leave, disconnect and data delivery on one daemon (ring-protocol.md §5.3, §5.6).</summary>
public sealed class GroupTableLightweightTests
{
    private static readonly MembershipId Ring = new(0x7F000001, 1000);
    private readonly GroupTable _table = new("d1", ["d1"], Ring);
    private readonly RecordingOutput _out = new();

    [Fact]
    public void First_join_creates_the_group_with_index_1_and_a_vs_set_of_the_joiner()
    {
        _table.Deliver(GroupMessage.Join("#alice#d1", "g"), _out);

        ClientEvent view = Assert.Single(_out.For("#alice#d1"));
        Assert.Equal(ServiceType.RegularMembership | ServiceType.CausedByJoin, view.Type);
        Assert.Equal("g", view.Sender);
        Assert.Equal(["#alice#d1"], view.Groups);
        Assert.Equal(new GroupId(Ring.ProcId, Ring.Time, 1), view.Membership!.GroupId);
        Assert.Equal(["#alice#d1"], view.LocalVsSet);
    }

    [Fact]
    public void Members_are_listed_by_name_and_each_change_increments_the_index()
    {
        _table.Deliver(GroupMessage.Join("#bob#d1", "g"), _out);
        _table.Deliver(GroupMessage.Join("#alice#d1", "g"), _out);
        _table.Deliver(GroupMessage.Leave("#bob#d1", "g"), _out);

        ClientEvent[] alice = [.. _out.For("#alice#d1")];
        Assert.Equal(["#alice#d1", "#bob#d1"], alice[0].Groups);
        Assert.Equal(2, alice[0].Membership!.GroupId.Index);
        Assert.Equal(ServiceType.RegularMembership | ServiceType.CausedByLeave, alice[1].Type);
        Assert.Equal(3, alice[1].Membership!.GroupId.Index);
        Assert.Equal(["#bob#d1"], alice[1].LocalVsSet);
        Assert.True(_out.For("#bob#d1").Last().IsSelfLeave);
    }

    [Fact]
    public void Duplicate_join_and_leave_of_a_non_member_change_nothing()
    {
        _table.Deliver(GroupMessage.Join("#alice#d1", "g"), _out);
        _table.Deliver(GroupMessage.Join("#alice#d1", "g"), _out);
        _table.Deliver(GroupMessage.Leave("#carol#d1", "g"), _out);

        Assert.Single(_out.Events);
        Assert.Equal(new GroupId(Ring.ProcId, Ring.Time, 1), _table.GroupIdOf("g"));
    }

    [Fact]
    public void Disconnect_removes_the_member_from_every_group_in_name_order()
    {
        foreach (string g in new[] { "b", "a" })
        {
            _table.Deliver(GroupMessage.Join("#alice#d1", g), _out);
            _table.Deliver(GroupMessage.Join("#bob#d1", g), _out);
        }

        _out.Events.Clear();
        _table.Deliver(GroupMessage.Kill("#bob#d1"), _out);

        Assert.Empty(_out.For("#bob#d1"));
        ClientEvent[] alice = [.. _out.For("#alice#d1")];
        Assert.Equal(["a", "b"], alice.Select(e => e.Sender));
        Assert.All(alice, e => Assert.Equal(ServiceType.RegularMembership | ServiceType.CausedByDisconnect, e.Type));
    }

    [Fact]
    public void Last_leave_removes_the_group()
    {
        _table.Deliver(GroupMessage.Join("#alice#d1", "g"), _out);
        _table.Deliver(GroupMessage.Leave("#alice#d1", "g"), _out);

        Assert.Equal(0, _table.GroupCount);
        Assert.Null(_table.GroupIdOf("g"));
    }

    [Fact]
    public void Multi_group_send_reaches_each_member_once_and_self_discard_skips_the_sender()
    {
        _table.Deliver(GroupMessage.Join("#alice#d1", "g1"), _out);
        _table.Deliver(GroupMessage.Join("#alice#d1", "g2"), _out);
        _table.Deliver(GroupMessage.Join("#bob#d1", "g2"), _out);
        _out.Events.Clear();

        byte[] frame = FrameWriter.Build(ServiceType.Agreed, "#alice#d1", ["g1", "g2", "#carol#d1", "#dave#d2"], MessageHeader.EncodeHint(5), [1, 2, 3]);
        _table.Deliver(GroupMessage.Data("#alice#d1", ["g1", "g2", "#carol#d1", "#dave#d2"], ServiceType.Agreed, frame), _out);
        Assert.Equal(["#alice#d1", "#bob#d1", "#carol#d1"], _out.Events.Select(e => e.Mailbox).Order(StringComparer.Ordinal));

        _out.Events.Clear();
        _table.Deliver(GroupMessage.Data("#alice#d1", ["g1", "g2"], ServiceType.Agreed | ServiceType.SelfDiscard, frame), _out);
        Assert.Equal(["#bob#d1"], _out.Events.Select(e => e.Mailbox));
    }

    [Fact]
    public void Open_group_send_by_a_non_member_reaches_the_members_only()
    {
        _table.Deliver(GroupMessage.Join("#alice#d1", "g"), _out);
        _out.Events.Clear();
        byte[] frame = FrameWriter.Build(ServiceType.Fifo, "#zed#d1", ["g"], MessageHeader.EncodeHint(0), []);

        _table.Deliver(GroupMessage.Data("#zed#d1", ["g"], ServiceType.Fifo, frame), _out);
        _table.Deliver(GroupMessage.Data("#zed#d1", ["empty"], ServiceType.Fifo, frame), _out);

        Assert.Equal(["#alice#d1"], _out.Events.Select(e => e.Mailbox));
    }

    [Fact]
    public void Messages_from_daemons_outside_the_configuration_are_dropped_and_counted()
    {
        _table.Deliver(GroupMessage.Join("#alice#nowhere", "g"), _out);
        _table.Deliver(GroupMessage.Join("not-a-private-name", "g"), _out);

        Assert.Empty(_out.Events);
        Assert.Equal(2, _table.DroppedMessages);
    }
}
