using Conclave.Protocol.Ring;
using Conclave.Protocol.Ring.Wire;

namespace Conclave.Protocol.Tests.Ring;

public sealed class RingWireTests
{
    private static readonly RingId Ring = new(1, 12);

    [Fact]
    public void Mcast_round_trips()
    {
        var m = new McastMessage(Ring, 7, 3, 2, 99, RingService.Safe, [1, 2, 3], encapsulated: false);
        Assert.Equal(RingParseError.None, RingPacket.TryParse(RingPacket.Format(3, m), out RingPacket p));
        var back = Assert.IsType<McastMessage>(p.Body);
        Assert.Equal((Ring, 7UL, 3u, 2UL, 99UL, RingService.Safe), (back.Ring, back.Seq, back.Originator, back.OriginatorIncarnation, back.OriginatorSeq, back.Service));
        Assert.Equal(new byte[] { 1, 2, 3 }, back.Payload);
        Assert.Equal(3u, p.Header.Sender);
    }

    [Fact]
    public void Token_round_trips_with_retransmission_requests()
    {
        var t = new OrfToken { Ring = Ring, TokenSeq = 5, Seq = 40, Aru = 30, AruId = 2, Fcc = 9, Backlog = 4, RetransFlag = true };
        t.Rtr.Add(new RtrEntry(Ring, 31));
        t.Rtr.Add(new RtrEntry(Ring, 33));
        Assert.Equal(RingParseError.None, RingPacket.TryParse(RingPacket.Format(1, t), out RingPacket p));
        var back = Assert.IsType<OrfToken>(p.Body);
        Assert.Equal((5UL, 40UL, 30UL, 2u, 9u, 4u, true), (back.TokenSeq, back.Seq, back.Aru, back.AruId, back.Fcc, back.Backlog, back.RetransFlag));
        Assert.Equal(t.Rtr, back.Rtr);
    }

    [Fact]
    public void Join_and_commit_token_round_trip()
    {
        var j = new JoinMessage(2, 12, false, [1, 2, 3], [3]);
        Assert.Equal(RingParseError.None, RingPacket.TryParse(RingPacket.Format(j), out RingPacket pj));
        var jb = Assert.IsType<JoinMessage>(pj.Body);
        Assert.Equal(j.ProcSet, jb.ProcSet);
        Assert.Equal(j.FailSet, jb.FailSet);

        var ct = new CommitToken(new RingId(1, 16), [1, 2]) { MemberIndex = 1, TokenSeq = 3 };
        ct.Entries[0] = new CommitEntry { Filled = true, OldRingId = Ring, MyAru = 10, HighDelivered = 9, ReceivedFlag = true, StableSeq = 8 };
        Assert.Equal(RingParseError.None, RingPacket.TryParse(RingPacket.Format(1, ct), out RingPacket pc));
        var cb = Assert.IsType<CommitToken>(pc.Body);
        Assert.Equal(ct.Entries, cb.Entries);
        Assert.Equal(1, cb.MemberIndex);
    }

    [Fact]
    public void Malformed_packets_return_errors_and_never_throw()
    {
        byte[] good = RingPacket.Format(new JoinMessage(2, 12, false, [1, 2, 3], []));
        Assert.Equal(RingParseError.Truncated, RingPacket.TryParse(good.AsSpan(0, 10), out _));
        for (int cut = 0; cut < good.Length; cut++) Assert.NotEqual(RingParseError.None, RingPacket.TryParse(good.AsSpan(0, cut), out _));

        byte[] flipped = (byte[])good.Clone();
        flipped[^1] ^= 0x40;
        Assert.Equal(RingParseError.BadChecksum, RingPacket.TryParse(flipped, out _));

        byte[] badMagic = (byte[])good.Clone();
        badMagic[0] = 0;
        Assert.Equal(RingParseError.BadMagic, RingPacket.TryParse(badMagic, out _));

        // Every single-byte corruption is rejected (checksum) and nothing throws.
        var rng = new Random(5);
        for (int i = 0; i < 2000; i++)
        {
            byte[] junk = new byte[rng.Next(0, 80)];
            rng.NextBytes(junk);
            _ = RingPacket.TryParse(junk, out _);
        }
    }

    [Fact]
    public void Unsorted_node_lists_are_rejected_after_a_valid_checksum()
    {
        // Build a Join with an unsorted proc set by hand, then seal it so only the field check can fail.
        byte[] packet = RingPacket.Format(new JoinMessage(2, 12, false, [1, 2], []));
        int procStart = RingHeader.Size + 8 + 1 + 2;
        (packet[procStart + 3], packet[procStart + 7]) = (packet[procStart + 7], packet[procStart + 3]);
        RingHeader.Seal(packet);
        Assert.Equal(RingParseError.BadField, RingPacket.TryParse(packet, out _));
    }

    [Fact]
    public void Core_counts_malformed_packets_instead_of_throwing()
    {
        var m = new RingMachine(1, new RingOptions());
        m.Boot(0, 0, 0);
        m.OnPacket([1, 2, 3], 10);
        m.OnPacket(new byte[64], 20);
        Assert.Equal(2, m.Counters.Malformed);
    }
}
