using Conclave.Protocol.Ring;
using Conclave.Protocol.Tracing;

namespace Conclave.Protocol.Tests.Ring;

/// <summary>Hand-made bad traces: the checker must catch each property's violation (and pass the good base trace).</summary>
public sealed class TraceCheckerTests
{
    private static readonly RingId R1 = new(1, 8);
    private static readonly RingId R2 = new(1, 12);

    private sealed class Builder
    {
        public List<TraceEvent> Events { get; } = [];
        private long _t;

        public Builder Boot(uint n) => Add(new TraceEvent(TraceKind.Boot, _t++, n, 1));
        public Builder Crash(uint n) => Add(new TraceEvent(TraceKind.Crash, _t++, n, 1));
        public Builder Healed() => Add(new TraceEvent(TraceKind.Healed, _t++, 0, 0));
        public Builder Reg(uint n, RingId ring, params uint[] members) => Add(new TraceEvent(TraceKind.Conf, _t++, n, 1) { Conf = ConfId.Reg(ring), Members = members });
        public Builder Trans(uint n, RingId ring, RingId old, params uint[] members) => Add(new TraceEvent(TraceKind.Conf, _t++, n, 1) { Conf = ConfId.Trans(ring, old), Members = members });
        public Builder Send(uint n, ulong counter, RingService svc = RingService.Agreed) =>
            Add(new TraceEvent(TraceKind.Send, _t++, n, 1) { Message = new MessageId(n, 1, counter), Service = svc, PayloadHash = counter });
        public Builder Deliver(uint n, uint from, ulong counter, ConfId conf, RingId ring, ulong seq, RingService svc = RingService.Agreed, ulong? hash = null) =>
            Add(new TraceEvent(TraceKind.Deliver, _t++, n, 1) { Message = new MessageId(from, 1, counter), Service = svc, PayloadHash = hash ?? counter, Conf = conf, Ring = ring, Seq = seq });

        private Builder Add(TraceEvent e)
        {
            Events.Add(e);
            return this;
        }
    }

    // Three daemons in R1, two messages, then 3 leaves: Trans {1,2} and R2 {1,2}.
    private static Builder Good(bool heal = true)
    {
        var b = new Builder();
        foreach (uint n in new uint[] { 1, 2, 3 }) b.Boot(n).Reg(n, new RingId(n, 4), n);
        foreach (uint n in new uint[] { 1, 2, 3 }) b.Trans(n, R1, new RingId(n, 4), n).Reg(n, R1, 1, 2, 3);
        b.Send(1, 1).Send(2, 1, RingService.Safe);
        foreach (uint n in new uint[] { 1, 2, 3 }) b.Deliver(n, 1, 1, ConfId.Reg(R1), R1, 1).Deliver(n, 2, 1, ConfId.Reg(R1), R1, 2, RingService.Safe);
        b.Crash(3);
        foreach (uint n in new uint[] { 1, 2 }) b.Trans(n, R2, R1, 1, 2).Reg(n, R2, 1, 2);
        if (heal) b.Healed();
        return b;
    }

    private static IReadOnlyList<Violation> Check(Builder b) => new TraceChecker().Check(b.Events);

    [Fact]
    public void Good_trace_passes() => Assert.Empty(Check(Good()));

    [Fact]
    public void Catches_P1_duplicate_delivery() =>
        Assert.Contains(Check(Good().Deliver(1, 1, 1, ConfId.Reg(R2), R2, 1)), v => v.Property == "P1");

    [Fact]
    public void Catches_P2_created_message() =>
        Assert.Contains(Check(Good().Deliver(1, 2, 99, ConfId.Reg(R2), R2, 5)), v => v.Property == "P2");

    [Fact]
    public void Catches_P2_changed_payload()
    {
        Builder b = Good(heal: false).Send(1, 2);
        b.Deliver(1, 1, 2, ConfId.Reg(R2), R2, 1, hash: 12345).Deliver(2, 1, 2, ConfId.Reg(R2), R2, 1);
        Assert.Contains(Check(b), v => v.Property == "P2");
    }

    [Fact]
    public void Catches_P3_lost_self_delivery() =>
        Assert.Contains(Check(Good().Send(1, 7)), v => v.Property == "P3");

    [Fact]
    public void Catches_P4_delivery_in_the_wrong_configuration()
    {
        Builder b = Good(heal: false).Send(1, 2);
        b.Deliver(1, 1, 2, ConfId.Reg(R2), R1, 3).Deliver(2, 1, 2, ConfId.Reg(R2), R1, 3);
        Assert.Contains(Check(b), v => v.Property == "P4");
    }

    [Fact]
    public void Catches_P5b_different_members_for_one_configuration()
    {
        var b = new Builder();
        b.Boot(1).Reg(1, new RingId(1, 4), 1).Boot(2).Reg(2, new RingId(2, 4), 2);
        b.Trans(1, R1, new RingId(1, 4), 1).Reg(1, R1, 1, 2).Trans(2, R1, new RingId(2, 4), 2).Reg(2, R1, 1, 2, 3);
        Assert.Contains(Check(b), v => v.Property == "P5b");
    }

    [Fact]
    public void Catches_P5c_ring_id_going_backwards()
    {
        var b = new Builder();
        b.Boot(1).Reg(1, R2, 1).Trans(1, R1, R2, 1).Reg(1, R1, 1);
        Assert.Contains(Check(b), v => v.Property == "P5c");
    }

    [Fact]
    public void Catches_P5f_regular_without_transitional()
    {
        var b = new Builder();
        b.Boot(1).Reg(1, R1, 1).Reg(1, R2, 1);
        Assert.Contains(Check(b), v => v.Property == "P5f");
    }

    [Fact]
    public void Catches_P5a_a_configuration_installed_without_its_installer()
    {
        var b = new Builder();
        b.Boot(1).Reg(1, new RingId(1, 4), 2);
        Assert.Contains(Check(b), v => v.Property == "P5a");
    }

    [Fact]
    public void Catches_P5d_two_transitional_configurations_in_a_row()
    {
        var b = new Builder();
        b.Boot(1).Reg(1, new RingId(1, 4), 1).Trans(1, R1, new RingId(1, 4), 1).Trans(1, R2, R1, 1);
        Assert.Contains(Check(b), v => v.Property == "P5d");
    }

    [Fact]
    public void Catches_P5e_a_transitional_member_outside_the_new_regular_configuration()
    {
        var b = new Builder();
        foreach (uint n in new uint[] { 1, 2, 3 }) b.Boot(n).Reg(n, new RingId(n, 4), n);
        foreach (uint n in new uint[] { 1, 2, 3 }) b.Trans(n, R1, new RingId(n, 4), n).Reg(n, R1, 1, 2, 3);
        b.Crash(3);
        foreach (uint n in new uint[] { 1, 2 }) b.Trans(n, R2, R1, 1, 2, 3).Reg(n, R2, 1, 2);
        Assert.Contains(Check(b), v => v.Property == "P5e");
    }

    [Fact]
    public void Catches_P6b_different_messages_in_a_shared_transitional_configuration()
    {
        Builder b = Good(heal: false).Send(1, 2);
        int trans = b.Events.FindIndex(e => e.Kind == TraceKind.Conf && e.Node == 1 && e.Conf == ConfId.Trans(R2, R1));
        b.Events.Insert(trans + 1, new TraceEvent(TraceKind.Deliver, 60, 1, 1) { Message = new MessageId(1, 1, 2), Service = RingService.Agreed, PayloadHash = 2, Conf = ConfId.Trans(R2, R1), Ring = R1, Seq = 3 });
        Assert.Contains(Check(b), v => v.Property == "P6b");
    }

    [Fact]
    public void Catches_P8_a_causal_predecessor_missing_in_a_transitional_configuration()
    {
        // 2 delivers 1's message, then sends its own; 3, cut off alone, delivers 2's message without 1's.
        var b = new Builder();
        RingId alone = new(3, 12);
        foreach (uint n in new uint[] { 1, 2, 3 }) b.Boot(n).Reg(n, new RingId(n, 4), n);
        foreach (uint n in new uint[] { 1, 2, 3 }) b.Trans(n, R1, new RingId(n, 4), n).Reg(n, R1, 1, 2, 3);
        b.Send(1, 1).Deliver(2, 1, 1, ConfId.Reg(R1), R1, 1).Send(2, 1);
        b.Deliver(1, 1, 1, ConfId.Reg(R1), R1, 1).Deliver(1, 2, 1, ConfId.Reg(R1), R1, 2).Deliver(2, 2, 1, ConfId.Reg(R1), R1, 2);
        b.Trans(3, alone, R1, 3).Deliver(3, 2, 1, ConfId.Trans(alone, R1), R1, 2).Reg(3, alone, 3);
        Assert.Contains(Check(b), v => v.Property == "P8");
    }

    [Fact]
    public void Catches_P11b_a_daemon_that_came_from_the_old_ring_missing_from_the_transitional_configuration()
    {
        var b = new Builder();
        foreach (uint n in new uint[] { 1, 2 }) b.Boot(n).Reg(n, new RingId(n, 4), n).Trans(n, R1, new RingId(n, 4), n).Reg(n, R1, 1, 2);
        b.Trans(1, R2, R1, 1).Reg(1, R2, 1, 2);
        b.Trans(2, R2, R1, 2).Reg(2, R2, 1, 2);
        Assert.Contains(Check(b), v => v.Property == "P11b");
    }

    [Fact]
    public void Catches_P6a_different_messages_before_a_shared_transitional_configuration()
    {
        Builder b = Good(heal: false).Send(1, 2);
        b.Events.InsertRange(b.Events.FindIndex(e => e.Kind == TraceKind.Crash), [
            new TraceEvent(TraceKind.Deliver, 50, 1, 1) { Message = new MessageId(1, 1, 2), Service = RingService.Agreed, PayloadHash = 2, Conf = ConfId.Reg(R1), Ring = R1, Seq = 3 },
        ]);
        Assert.Contains(Check(b), v => v.Property == "P6a");
    }

    [Fact]
    public void Catches_P7a_different_order()
    {
        var b = new Builder();
        foreach (uint n in new uint[] { 1, 2 }) b.Boot(n).Reg(n, new RingId(n, 4), n).Trans(n, R1, new RingId(n, 4), n).Reg(n, R1, 1, 2);
        b.Send(1, 1).Send(2, 1);
        b.Deliver(1, 1, 1, ConfId.Reg(R1), R1, 1).Deliver(1, 2, 1, ConfId.Reg(R1), R1, 2);
        b.Deliver(2, 2, 1, ConfId.Reg(R1), R1, 2).Deliver(2, 1, 1, ConfId.Reg(R1), R1, 1);
        Assert.Contains(Check(b), v => v.Property == "P7a");
    }

    [Fact]
    public void Catches_P7b_gap_in_a_regular_configuration()
    {
        var b = new Builder();
        foreach (uint n in new uint[] { 1, 2 }) b.Boot(n).Reg(n, new RingId(n, 4), n).Trans(n, R1, new RingId(n, 4), n).Reg(n, R1, 1, 2);
        b.Send(1, 1).Send(1, 2);
        b.Deliver(1, 1, 1, ConfId.Reg(R1), R1, 1).Deliver(1, 1, 2, ConfId.Reg(R1), R1, 2);
        b.Deliver(2, 1, 2, ConfId.Reg(R1), R1, 2);
        Assert.Contains(Check(b), v => v.Property == "P7b");
    }

    [Fact]
    public void Catches_P9_fifo_across_a_transitional_configuration()
    {
        Builder b = Good(heal: false).Send(1, 2).Send(1, 3);
        // Both sequenced in R1 after the others' deliveries; 2 delivers only the later one.
        b.Events.Add(new TraceEvent(TraceKind.Deliver, 900, 1, 1) { Message = new MessageId(1, 1, 2), Service = RingService.Agreed, PayloadHash = 2, Conf = ConfId.Reg(R2), Ring = R2, Seq = 1 });
        b.Events.Add(new TraceEvent(TraceKind.Deliver, 901, 1, 1) { Message = new MessageId(1, 1, 3), Service = RingService.Agreed, PayloadHash = 3, Conf = ConfId.Reg(R2), Ring = R2, Seq = 2 });
        b.Events.Add(new TraceEvent(TraceKind.Deliver, 902, 2, 1) { Message = new MessageId(1, 1, 3), Service = RingService.Agreed, PayloadHash = 3, Conf = ConfId.Reg(R2), Ring = R2, Seq = 2 });
        Assert.Contains(Check(b), v => v.Property == "P9");
    }

    [Fact]
    public void Catches_P10_safe_message_missing_at_a_member_that_moved_on()
    {
        var b = new Builder();
        foreach (uint n in new uint[] { 1, 2 }) b.Boot(n).Reg(n, new RingId(n, 4), n).Trans(n, R1, new RingId(n, 4), n).Reg(n, R1, 1, 2);
        b.Send(1, 1, RingService.Safe);
        b.Deliver(1, 1, 1, ConfId.Reg(R1), R1, 1, RingService.Safe);
        foreach (uint n in new uint[] { 1, 2 }) b.Trans(n, R2, R1, n).Reg(n, R2, n);
        Assert.Contains(Check(b), v => v.Property == "P10");
    }

    [Fact]
    public void Catches_P12_live_daemons_in_different_configurations()
    {
        var b = new Builder();
        foreach (uint n in new uint[] { 1, 2 }) b.Boot(n).Reg(n, new RingId(n, 4), n);
        b.Healed();
        Assert.Contains(Check(b), v => v.Property == "P12");
    }

    [Fact]
    public void Trace_lines_round_trip()
    {
        foreach (TraceEvent e in Good().Events)
        {
            Assert.True(TraceJson.TryParse(TraceJson.Format(e), out TraceEvent? back));
            Assert.Equal(TraceJson.Format(e), TraceJson.Format(back!));
        }
        Assert.False(TraceJson.TryParse("{\"k\":\"deliver\"", out _));
    }
}
