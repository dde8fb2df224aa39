using Conclave.Protocol.Groups;
using Conclave.Protocol.Spread;

namespace Conclave.Protocol.Tests.Groups;

/// <summary>
/// Daemon configuration changes as the ring would deliver them (ring-protocol.md §5.4): a tiny
/// in-order bus feeds the same stream to every daemon of a configuration.
/// </summary>
public sealed class GroupTableNetworkTests
{
    private static readonly string[] Order = ["d1", "d2", "d3"];
    private readonly Dictionary<string, (GroupTable Table, RecordingOutput Out)> _daemons = [];
    private int _time = 100;

    public GroupTableNetworkTests()
    {
        foreach (string d in Order)
        {
            _daemons[d] = (new GroupTable(d, Order, Id()), new RecordingOutput());
        }
    }

    private MembershipId Id() => new(0x7F000001, _time++);

    /// <summary>Delivers the same message to every daemon in <paramref name="config"/>, in order.</summary>
    private void Deliver(string[] config, GroupMessage message)
    {
        foreach (string d in config)
        {
            _daemons[d].Table.Deliver(message, _daemons[d].Out);
        }
    }

    /// <summary>Transitional then regular configuration at each daemon, then the state exchange in one order.</summary>
    private void Reconfigure(params (string[] Trans, string[] Reg)[] sides)
    {
        MembershipId reg = Id();
        foreach ((string[] trans, string[] _) in sides)
        {
            MembershipId transId = Id();
            foreach (string d in trans)
            {
                _daemons[d].Table.OnTransitional(trans, transId, _daemons[d].Out);
            }
        }

        string[] members = sides[0].Reg;
        foreach (string d in members)
        {
            _daemons[d].Table.OnRegular(members, reg, _daemons[d].Out);
        }

        // The ring orders the leaders' state messages; every member sees them in one order.
        var states = members.SelectMany(d => _daemons[d].Out.Submitted.Select(s => (Leader: d, State: s))).ToList();
        foreach (string d in members)
        {
            _daemons[d].Out.Submitted.Clear();
        }

        foreach ((string leader, GroupsStateMessage state) in states)
        {
            Deliver(members, GroupMessage.GroupsState(leader, state));
        }
    }

    private ClientEvent[] Events(string daemon, string mailbox) => [.. _daemons[daemon].Out.For(mailbox)];

    private void Clear()
    {
        foreach ((GroupTable _, RecordingOutput output) in _daemons.Values)
        {
            output.Events.Clear();
        }
    }

    private void FormAllThree()
    {
        Reconfigure((["d1"], Order), (["d2"], Order), (["d3"], Order));
        Assert.All(_daemons.Values, d => Assert.Equal(GroupLayerState.Operational, d.Table.State));
    }

    [Fact]
    public void Merge_of_three_singletons_completes_the_exchange()
    {
        FormAllThree();
        Assert.All(_daemons.Values, d => Assert.Equal(Order, d.Table.SyncedSet));
    }

    [Fact]
    public void Crash_gives_transition_then_a_network_view_with_the_survivor_set()
    {
        FormAllThree();
        Deliver(Order, GroupMessage.Join("#alice#d1", "g"));
        Deliver(Order, GroupMessage.Join("#bob#d2", "g"));
        GroupId before = _daemons["d1"].Table.GroupIdOf("g")!.Value;
        Clear();

        Reconfigure((["d1", "d3"], ["d1", "d3"]));

        ClientEvent[] alice = Events("d1", "#alice#d1");
        Assert.Equal(2, alice.Length);
        Assert.True(alice[0].IsTransition);
        Assert.Equal(before, alice[0].TransitionId);
        Assert.Equal(ServiceType.RegularMembership | ServiceType.CausedByNetwork, alice[1].Type);
        Assert.Equal(["#alice#d1"], alice[1].Groups);
        Assert.Equal(1, alice[1].Membership!.GroupId.Index);
        Assert.Equal(["#alice#d1"], alice[1].LocalVsSet);
        Assert.Equal(_daemons["d1"].Table.GroupIdOf("g"), _daemons["d3"].Table.GroupIdOf("g"));
    }

    [Fact]
    public void A_change_that_touches_no_daemon_of_the_group_delivers_nothing()
    {
        FormAllThree();
        Deliver(Order, GroupMessage.Join("#alice#d1", "g"));
        Deliver(Order, GroupMessage.Join("#bob#d2", "g"));
        GroupId before = _daemons["d1"].Table.GroupIdOf("g")!.Value;
        Clear();

        Reconfigure((["d1", "d2"], ["d1", "d2"]));

        Assert.Empty(Events("d1", "#alice#d1"));
        Assert.Empty(Events("d2", "#bob#d2"));
        Assert.Equal(before, _daemons["d1"].Table.GroupIdOf("g"));
    }

    /// <summary>The 10b recording: the side that only grows gets no TRANSITION; both get two vs-sets.</summary>
    [Fact]
    public void Partition_and_merge_match_the_recorded_spread_behaviour()
    {
        FormAllThree();
        Deliver(Order, GroupMessage.Join("#alice#d1", "g"));
        Deliver(Order, GroupMessage.Join("#bob#d2", "g"));

        Reconfigure((["d1", "d3"], ["d1", "d3"]));
        Reconfigure((["d2"], ["d2"]));
        Clear();
        Reconfigure((["d1", "d3"], Order), (["d2"], Order));

        ClientEvent[] alice = Events("d1", "#alice#d1");
        ClientEvent[] bob = Events("d2", "#bob#d2");
        ClientEvent aliceView = Assert.Single(alice);
        Assert.Equal(ServiceType.RegularMembership | ServiceType.CausedByNetwork, aliceView.Type);
        Assert.Equal(["#alice#d1", "#bob#d2"], aliceView.Groups);
        Assert.Equal([["#alice#d1"], ["#bob#d2"]], aliceView.Membership!.VsSets.Select(s => s.ToArray()));
        Assert.Equal(0, aliceView.Membership.OffsetOf(aliceView.Membership.LocalVsSetIndex));
        ClientEvent bobView = Assert.Single(bob);
        Assert.Equal(36, bobView.Membership!.OffsetOf(bobView.Membership.LocalVsSetIndex));
        Assert.Equal(aliceView.Membership.GroupId, bobView.Membership.GroupId);
        Assert.All(_daemons.Values, d => Assert.Equal(["#alice#d1", "#bob#d2"], d.Table.MembersOf("g")));
    }

    /// <summary>
    /// J6: the ordering layer holds client requests during an exchange; one that still arrives (a
    /// daemon breaking J6) is dropped and counted alike at every daemon, never applied to a table the
    /// exchange has not merged yet.
    /// </summary>
    [Fact]
    public void A_request_delivered_during_the_exchange_is_dropped_and_counted_alike_everywhere()
    {
        FormAllThree();
        Deliver(Order, GroupMessage.Join("#alice#d1", "g"));
        Reconfigure((["d1"], ["d1"]));
        Reconfigure((["d2", "d3"], ["d2", "d3"]));

        // Merge, but deliver a join before the state messages are ordered.
        MembershipId reg = Id();
        _daemons["d1"].Table.OnTransitional(["d1"], Id(), _daemons["d1"].Out);
        MembershipId trans23 = Id();
        foreach (string d in new[] { "d2", "d3" })
        {
            _daemons[d].Table.OnTransitional(["d2", "d3"], trans23, _daemons[d].Out);
        }

        foreach (string d in Order)
        {
            _daemons[d].Table.OnRegular(Order, reg, _daemons[d].Out);
        }

        Deliver(Order, GroupMessage.Join("#carol#d3", "g"));
        Assert.All(_daemons.Values, d => Assert.True(d.Table.IsExchanging));
        var states = Order.SelectMany(d => _daemons[d].Out.Submitted.Select(s => (d, s))).ToList();
        Clear();
        foreach ((string leader, GroupsStateMessage state) in states)
        {
            Deliver(Order, GroupMessage.GroupsState(leader, state));
        }

        // g lived only at d1, so the merge itself changes nothing for alice (N0), and the join is gone.
        Assert.Empty(Events("d1", "#alice#d1"));
        Assert.Empty(Events("d3", "#carol#d3"));
        Assert.All(_daemons.Values, d => Assert.Equal(1, d.Table.RequestsDuringExchange));
        Assert.All(_daemons.Values, d => Assert.StartsWith("Join from #carol#d3 to [g] in Gathering", d.Table.LastRequestDuringExchange, StringComparison.Ordinal));
        Assert.All(_daemons.Values, d => Assert.Equal(["#alice#d1"], d.Table.MembersOf("g")));
        GroupId? id = _daemons["d1"].Table.GroupIdOf("g");
        Assert.All(_daemons.Values, d => Assert.Equal(id, d.Table.GroupIdOf("g")));
    }

    [Fact]
    public void A_stale_state_message_is_dropped()
    {
        FormAllThree();
        var stale = new GroupsStateMessage(new MembershipId(1, 1), ["d2"], []);

        Deliver(Order, GroupMessage.GroupsState("d2", stale));

        Assert.All(_daemons.Values, d => Assert.Equal(1, d.Table.DroppedMessages));
    }

    [Fact]
    public void A_crash_during_the_exchange_restarts_it_and_clients_see_transition_first()
    {
        FormAllThree();
        Deliver(Order, GroupMessage.Join("#alice#d1", "g"));
        Deliver(Order, GroupMessage.Join("#carol#d3", "g"));
        Reconfigure((["d1", "d3"], ["d1", "d3"]));
        Reconfigure((["d2"], ["d2"]));
        Clear();

        // Merge starts; before any state message is ordered, d3 crashes.
        MembershipId reg = Id();
        MembershipId t13 = Id();
        MembershipId t2 = Id();
        foreach (string d in new[] { "d1", "d3" })
        {
            _daemons[d].Table.OnTransitional(["d1", "d3"], t13, _daemons[d].Out);
        }

        _daemons["d2"].Table.OnTransitional(["d2"], t2, _daemons["d2"].Out);
        foreach (string d in Order)
        {
            _daemons[d].Table.OnRegular(Order, reg, _daemons[d].Out);
            _daemons[d].Out.Submitted.Clear();
        }

        Reconfigure((["d1"], ["d1", "d2"]), (["d2"], ["d1", "d2"]));

        ClientEvent[] alice = Events("d1", "#alice#d1");
        Assert.True(alice[0].IsTransition);
        ClientEvent view = alice[^1];
        Assert.Equal(ServiceType.RegularMembership | ServiceType.CausedByNetwork, view.Type);
        Assert.Equal(["#alice#d1"], view.Groups);
        Assert.Equal(GroupLayerState.Operational, _daemons["d1"].Table.State);
        Assert.Equal(GroupLayerState.Operational, _daemons["d2"].Table.State);
    }

    /// <summary>
    /// N9: the exchange completes after a cascaded transitional configuration (d3 cut off while the
    /// state messages were on their way): the merged view comes first, then TRANSITION for d3's loss,
    /// then the subtractive view, and d1 and d2 agree on every id.
    /// </summary>
    [Fact]
    public void An_exchange_that_completes_after_a_cascade_gives_the_merged_view_then_transition()
    {
        FormAllThree();
        Deliver(Order, GroupMessage.Join("#alice#d1", "g"));
        Deliver(Order, GroupMessage.Join("#carol#d3", "g"));
        Reconfigure((["d1", "d2"], ["d1", "d2"]), (["d3"], ["d3"]));
        Clear();

        MembershipId t12 = Id();
        MembershipId t3 = Id();
        MembershipId reg = Id();
        foreach (string d in new[] { "d1", "d2" })
        {
            _daemons[d].Table.OnTransitional(["d1", "d2"], t12, _daemons[d].Out);
        }

        _daemons["d3"].Table.OnTransitional(["d3"], t3, _daemons["d3"].Out);
        foreach (string d in Order)
        {
            _daemons[d].Table.OnRegular(Order, reg, _daemons[d].Out);
        }

        var states = Order.SelectMany(d => _daemons[d].Out.Submitted.Select(s => (d, s))).ToList();
        string[] survivors = ["d1", "d2"];
        MembershipId cascade = Id();
        foreach (string d in survivors)
        {
            _daemons[d].Table.OnTransitional(survivors, cascade, _daemons[d].Out);
            _daemons[d].Out.Submitted.Clear();
        }

        Assert.Empty(Events("d1", "#alice#d1"));
        foreach ((string leader, GroupsStateMessage state) in states)
        {
            Deliver(survivors, GroupMessage.GroupsState(leader, state));
        }

        Assert.All(survivors, d => Assert.Equal(GroupLayerState.Transitional, _daemons[d].Table.State));
        MembershipId regPair = Id();
        foreach (string d in survivors)
        {
            _daemons[d].Table.OnRegular(survivors, regPair, _daemons[d].Out);
        }

        ClientEvent[] alice = Events("d1", "#alice#d1");
        Assert.Equal(3, alice.Length);
        Assert.Equal(ServiceType.RegularMembership | ServiceType.CausedByNetwork, alice[0].Type);
        Assert.Equal(["#alice#d1", "#carol#d3"], alice[0].Groups);
        Assert.True(alice[1].IsTransition);
        Assert.Equal(alice[0].Membership!.GroupId, alice[1].TransitionId);
        Assert.Equal(["#alice#d1"], alice[2].Groups);
        Assert.All(survivors, d => Assert.Equal(GroupLayerState.Operational, _daemons[d].Table.State));
        Assert.Equal(_daemons["d1"].Table.GroupIdOf("g"), _daemons["d2"].Table.GroupIdOf("g"));
    }

    /// <summary>
    /// N10 with a newcomer: a request delivered during an exchange that a cascade interrupts is
    /// dropped at the daemons that saw it, so the daemon that joins in the next configuration, which
    /// never saw it, ends with the same table (no request outlives the configuration it came in).
    /// </summary>
    [Fact]
    public void A_request_dropped_during_an_interrupted_exchange_leaves_the_newcomer_s_table_equal()
    {
        FormAllThree();
        Deliver(Order, GroupMessage.Join("#alice#d1", "g"));
        Reconfigure((["d1"], ["d1"]));
        Reconfigure((["d2"], ["d2"]));
        Reconfigure((["d3"], ["d3"]));

        // d1 and d2 merge; bob's join is ordered before their state messages.
        string[] pair = ["d1", "d2"];
        MembershipId regPair = Id();
        foreach (string d in pair)
        {
            _daemons[d].Table.OnTransitional([d], Id(), _daemons[d].Out);
            _daemons[d].Table.OnRegular(pair, regPair, _daemons[d].Out);
            _daemons[d].Out.Submitted.Clear();
        }

        Deliver(pair, GroupMessage.Join("#bob#d2", "g"));
        Assert.All(pair, d => Assert.True(_daemons[d].Table.IsExchanging));

        // d3 merges in before that exchange finishes: it never saw bob's join.
        Reconfigure((pair, Order), (["d3"], Order));

        Assert.All(_daemons.Values, d => Assert.Equal(GroupLayerState.Operational, d.Table.State));
        Assert.All(_daemons.Values, d => Assert.Equal(["#alice#d1"], d.Table.MembersOf("g")));
        Assert.All(pair, d => Assert.Equal(1, _daemons[d].Table.RequestsDuringExchange));
        GroupId? id = _daemons["d1"].Table.GroupIdOf("g");
        Assert.All(_daemons.Values, d => Assert.Equal(id, d.Table.GroupIdOf("g")));
    }

    /// <summary>
    /// N6 after an interrupted exchange (same daemons, new ring, no report ordered): every daemon
    /// must end with d3's members under one id for the group.
    /// </summary>
    [Fact]
    public void The_merge_after_an_interrupted_exchange_gives_one_group_id_everywhere()
    {
        FormAllThree();
        Reconfigure((["d1"], ["d1"]));
        Reconfigure((["d2"], ["d2"]));
        Reconfigure((["d3"], ["d3"]));
        Deliver(["d3"], GroupMessage.Join("#carol#d3", "g"));
        Deliver(["d3"], GroupMessage.Join("#erin#d3", "g"));

        MembershipId regAll = Id();
        foreach (string d in Order)
        {
            _daemons[d].Table.OnTransitional([d], Id(), _daemons[d].Out);
            _daemons[d].Table.OnRegular(Order, regAll, _daemons[d].Out);
            _daemons[d].Out.Submitted.Clear();
        }

        // The token is lost before any state message is ordered: same daemons, new ring.
        Reconfigure((Order, Order));

        Assert.All(_daemons.Values, d => Assert.Equal(GroupLayerState.Operational, d.Table.State));
        Assert.All(_daemons.Values, d => Assert.Equal(["#carol#d3", "#erin#d3"], d.Table.MembersOf("g")));
        GroupId? id = _daemons["d3"].Table.GroupIdOf("g");
        Assert.All(_daemons.Values, d => Assert.Equal(id, d.Table.GroupIdOf("g")));
    }

    /// <summary>
    /// N8 with a group only the other set knows: d3 learns of g from {d1,d2}'s report after the
    /// cascaded transitional configuration (d2 gone) was marked, so it must mark g changed as d1 did;
    /// otherwise only d1 gives g a new id (the simulator's <c>conclave sim --seed 1750 --daemons 4 --loss 0.2 --faults all --groups</c> G-P1).
    /// </summary>
    [Fact]
    public void A_group_learnt_from_a_report_after_a_cascade_gets_the_same_view_everywhere()
    {
        FormAllThree();
        Reconfigure((["d1", "d2"], ["d1", "d2"]), (["d3"], ["d3"]));
        Deliver(["d1", "d2"], GroupMessage.Join("#alice#d1", "g"));
        Deliver(["d1", "d2"], GroupMessage.Join("#bob#d2", "g"));

        MembershipId reg = Id();
        MembershipId t12 = Id();
        MembershipId t3 = Id();
        foreach (string d in Order)
        {
            _daemons[d].Table.OnTransitional(d == "d3" ? ["d3"] : ["d1", "d2"], d == "d3" ? t3 : t12, _daemons[d].Out);
            _daemons[d].Table.OnRegular(Order, reg, _daemons[d].Out);
        }

        var states = Order.SelectMany(d => _daemons[d].Out.Submitted.Select(s => (Leader: d, State: s))).ToList();

        // d2 is cut off before the state messages are ordered: d1 and d3 get them in a transitional configuration.
        string[] survivors = ["d1", "d3"];
        MembershipId cascade = Id();
        foreach (string d in survivors)
        {
            _daemons[d].Table.OnTransitional(survivors, cascade, _daemons[d].Out);
        }

        foreach ((string leader, GroupsStateMessage state) in states)
        {
            Deliver(survivors, GroupMessage.GroupsState(leader, state));
        }

        Assert.Equal(_daemons["d1"].Table.GroupIdOf("g"), _daemons["d3"].Table.GroupIdOf("g"));
        Deliver(survivors, GroupMessage.Join("#carol#d3", "g"));
        Assert.Equal(_daemons["d1"].Table.MembersOf("g"), _daemons["d3"].Table.MembersOf("g"));
        Assert.Equal(_daemons["d1"].Table.GroupIdOf("g"), _daemons["d3"].Table.GroupIdOf("g"));
    }
}
