using Conclave.Protocol.Groups;
using Conclave.Protocol.Spread;

namespace Conclave.Protocol.Tests.Groups;

public sealed class GroupMessageCodecTests
{
    private static GroupMessage RoundTrip(GroupMessage message)
    {
        Assert.True(GroupMessageCodec.TryDecode(GroupMessageCodec.Encode(message), out GroupMessage? decoded));
        Assert.Equal(message.Kind, decoded!.Kind);
        Assert.Equal(message.Sender, decoded.Sender);
        Assert.Equal(message.Groups, decoded.Groups);
        return decoded;
    }

    [Fact]
    public void Data_keeps_the_frame_service_and_destinations()
    {
        byte[] frame = FrameWriter.Build(ServiceType.Safe | ServiceType.SelfDiscard, "#a#d1", ["g1", "#b#d2"], MessageHeader.EncodeHint(-3), [1, 2, 3]);

        GroupMessage decoded = RoundTrip(GroupMessage.Data("#a#d1", ["g1", "#b#d2"], ServiceType.Safe | ServiceType.SelfDiscard, frame));

        Assert.Equal(ServiceType.Safe | ServiceType.SelfDiscard, decoded.Service);
        Assert.Equal(frame, decoded.Frame.ToArray());
    }

    [Fact]
    public void Join_leave_and_kill_round_trip()
    {
        RoundTrip(GroupMessage.Join("#a#d1", "g"));
        RoundTrip(GroupMessage.Leave("#a#d1", "g"));
        RoundTrip(GroupMessage.Kill("#a#d1"));
    }

    [Fact]
    public void Group_state_round_trips_with_partitioned_daemons()
    {
        var state = new GroupsStateMessage(new MembershipId(7, 9), ["d1", "d3"],
        [
            new GroupState("g", new MembershipId(7, 8), 4, true,
                [new DaemonState("d1", new MembershipId(7, 8), ["#a#d1", "#b#d1"]), new DaemonState("d2", null, ["#c#d2"])]),
            new GroupState("h", new MembershipId(1, 2), 1, false, []),
        ]);

        GroupsStateMessage decoded = RoundTrip(GroupMessage.GroupsState("d1", state)).State!;

        Assert.Equal(state.RegId, decoded.RegId);
        Assert.Equal(state.SyncedSet, decoded.SyncedSet);
        Assert.Equal(2, decoded.Groups.Count);
        Assert.Equal(state.Groups[0] with { Daemons = [] }, decoded.Groups[0] with { Daemons = [] });
        Assert.Null(decoded.Groups[0].Daemons[1].MembId);
        Assert.Equal(["#a#d1", "#b#d1"], decoded.Groups[0].Daemons[0].Members);
    }

    [Fact]
    public void Random_and_truncated_payloads_are_refused_without_throwing()
    {
        var random = new Random(1995);
        byte[] valid = GroupMessageCodec.Encode(GroupMessage.GroupsState("d1", new GroupsStateMessage(new MembershipId(1, 1), ["d1"],
            [new GroupState("g", new MembershipId(1, 1), 1, false, [new DaemonState("d1", new MembershipId(1, 1), ["#a#d1"])])])));
        for (int cut = 0; cut < valid.Length; cut++)
        {
            Assert.False(GroupMessageCodec.TryDecode(valid.AsMemory(0, cut), out _), $"prefix of {cut} bytes accepted");
        }

        for (int i = 0; i < 10_000; i++)
        {
            byte[] junk = new byte[random.Next(0, 80)];
            random.NextBytes(junk);
            if (junk.Length > 1)
            {
                junk[0] = 1; // a valid version byte, so the decoder goes deeper
                junk[1] = (byte)random.Next(0, 7);
            }

            GroupMessageCodec.TryDecode(junk, out _);
        }
    }
}
