using Conclave.Client.Flush;
using Conclave.Client.Flush.Internal;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Flush;

/// <summary>FLUSH_OKs, FLUSH_RECVs and data read in place from received frames (the receive path's fast path) act as decoded ones do.</summary>
public sealed class FlushControlFrameTests
{
    private const string A = "#a#d";
    private const string B = "#b#d";
    private const string C = "#c#d";
    private static readonly GroupId View2 = new(1, 1, 2);

    [Fact]
    public void Flush_oks_and_flush_recvs_read_from_frames_install_the_view_and_end_the_flush()
    {
        var c = new FlushCore(C, autoFlushOk: true);
        c.Handle(Membership(View2, [A, B, C], C));
        Outgoing ok = c.Sends.Dequeue();
        Assert.Equal(FlushWire.FlushOk, ok.MessageType);

        foreach (string from in new[] { A, B })
        {
            Assert.True(c.TryHandleInPlace(Frame(ServiceType.Fifo, from, "g", FlushWire.FlushOk, ok.Body)));
            Assert.Empty(c.Deliveries);
        }

        Assert.True(c.TryHandleInPlace(Frame(ServiceType.Fifo, C, "g", FlushWire.FlushOk, ok.Body)));
        FlushView view = Assert.IsType<FlushView>(Assert.Single(c.Deliveries));
        Assert.Equal(View2, view.GroupId);
        Assert.Equal([A, B, C], view.Members);
        Outgoing recv = c.Sends.Dequeue();
        Assert.Equal(FlushWire.FlushRecv, recv.MessageType);

        // Until every member confirmed the view, a FIFO send is tagged as vulnerable; after, it is not.
        Assert.Equal(FlushWire.Vulnerable, c.PrepareSend("g", ServiceType.Fifo, 1, "x"u8, null)!.MessageType);
        foreach (string from in new[] { A, B, C })
        {
            Assert.True(c.TryHandleInPlace(Frame(ServiceType.Fifo, from, "g", FlushWire.FlushRecv, recv.Body)));
        }

        Assert.Equal(1, c.PrepareSend("g", ServiceType.Fifo, 1, "x"u8, null)!.MessageType);
    }

    [Fact]
    public void A_duplicate_flush_ok_from_one_member_does_not_count_twice()
    {
        var c = new FlushCore(C, autoFlushOk: true);
        c.Handle(Membership(View2, [A, B, C], C));
        byte[] body = c.Sends.Dequeue().Body;
        Assert.True(c.TryHandleInPlace(Frame(ServiceType.Fifo, A, "g", FlushWire.FlushOk, body)));
        Assert.True(c.TryHandleInPlace(Frame(ServiceType.Fifo, A, "g", FlushWire.FlushOk, body)));
        Assert.True(c.TryHandleInPlace(Frame(ServiceType.Fifo, C, "g", FlushWire.FlushOk, body)));
        Assert.Empty(c.Deliveries);
    }

    [Fact]
    public void Other_frames_are_left_to_the_decoding_path_untouched()
    {
        var c = new FlushCore(C, autoFlushOk: true);
        c.Handle(Membership(View2, [A, B, C], C));
        byte[] body = c.Sends.Dequeue().Body;

        Assert.False(c.TryHandleInPlace(Frame(ServiceType.Agreed, A, "other", 7, [1, 2, 3])));
        Assert.False(c.TryHandleInPlace(Frame(ServiceType.Agreed, A, C, 7, [1, 2, 3])));
        Assert.False(c.TryHandleInPlace(Frame(ServiceType.Fifo, A, "g", FlushWire.Vulnerable, [1, 2, 3])));
        Assert.False(c.TryHandleInPlace(Frame(ServiceType.Fifo, A, "other", FlushWire.FlushOk, body)));
        Assert.False(c.TryHandleInPlace(Frame(ServiceType.Fifo | FlushWire.SubgroupCast, A, "g", FlushWire.FlushOk, body)));
        Assert.False(c.TryHandleInPlace(Frame(ServiceType.Fifo, A, "g", FlushWire.FlushOk, body[..4])));
        Assert.False(c.TryHandleInPlace(Frame(ServiceType.RegularMembership | ServiceType.CausedByJoin, "g", C, 0, body)));
        Assert.Empty(c.Deliveries);
        Assert.Empty(c.Sends);
    }

    [Fact]
    public void Data_read_from_a_frame_is_delivered_as_the_decoded_message_would_be()
    {
        var c = new FlushCore(C, autoFlushOk: true);
        var decoded = new FlushCore(C, autoFlushOk: true);
        foreach (FlushCore core in new[] { c, decoded })
        {
            core.Handle(Membership(View2, [A, B, C], C));
            byte[] ok = core.Sends.Dequeue().Body;
            foreach (string from in new[] { A, B, C })
            {
                core.Handle(new DataMessage(ServiceType.Fifo, from, ["g"], FlushWire.FlushOk, false, ok));
            }

            core.Deliveries.Clear();
        }

        SpreadFrame frame = Frame(ServiceType.Agreed | ServiceType.SelfDiscard, B, "g", 7, [1, 2, 3]);
        Assert.True(c.TryHandleInPlace(frame));
        decoded.Handle(SpreadMessage.FromFrame(frame, C));
        FlushDataMessage inPlace = Assert.IsType<FlushDataMessage>(Assert.Single(c.Deliveries));
        FlushDataMessage viaDecoder = Assert.IsType<FlushDataMessage>(Assert.Single(decoded.Deliveries));
        Assert.Equal((viaDecoder.Group, viaDecoder.Sender, viaDecoder.Service, viaDecoder.MessageType, viaDecoder.EndianMismatch), (inPlace.Group, inPlace.Sender, inPlace.Service, inPlace.MessageType, inPlace.EndianMismatch));
        Assert.Equal(viaDecoder.Body.ToArray(), inPlace.Body.ToArray());
        Assert.Null(inPlace.Receivers);

        // A closed group: a non-member's message is not delivered either way.
        Assert.True(c.TryHandleInPlace(Frame(ServiceType.Agreed, "#x#d", "g", 7, [1])));
        Assert.Single(c.Deliveries);
    }

    private static MembershipMessage Membership(GroupId id, string[] members, string self) =>
        new(ServiceType.RegularMembership | ServiceType.CausedByJoin, "g", members, id, [[members[^1]]], 0, Array.IndexOf(members, self));

    /// <summary>A frame as the daemon delivers it: header (sender), one name, body.</summary>
    private static SpreadFrame Frame(ServiceType type, string sender, string group, short messageType, byte[] body)
    {
        var header = new MessageHeader(type, 1, MessageHeader.EncodeHint(messageType), body.Length);
        var buffer = new byte[MessageHeader.Size + SpreadLimits.GroupNameSize + body.Length];
        header.Format(buffer, sender);
        NameField.Write(group, buffer.AsSpan(MessageHeader.Size, SpreadLimits.GroupNameSize));
        body.CopyTo(buffer.AsSpan(MessageHeader.Size + SpreadLimits.GroupNameSize));
        return new SpreadFrame(buffer, header);
    }
}
