using System.Buffers.Binary;
using System.Text;
using Conclave.Client.Tests.Conformance;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests;

/// <summary>Message kinds and error paths the recordings do not hold: rejects, big-endian daemons, malformed frames, local checks.</summary>
public sealed class MessageTests
{
    private const string Me = "#me#localhost";
    private readonly CancellationToken _hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;

    private static byte[] Frame(ServiceType type, string sender, string[] groups, short messageType, byte[] body) =>
        FrameWriter.Build(type, sender, groups, MessageHeader.EncodeHint(messageType), body);

    private async Task<(ScriptedDaemon Daemon, GroupConnection Connection)> OpenAsync(StreamBuilder stream, int? seed = 3)
    {
        var daemon = new ScriptedDaemon(stream.Build(), seed, _hangGuard);
        GroupConnection connection = await GroupConnection.ConnectAsync(daemon.SpreadName, "me", true, _hangGuard);
        return (daemon, connection);
    }

    [Fact]
    public async Task A_rejected_multicast_comes_back_with_its_old_type_groups_and_body()
    {
        byte[] reject = FrameWriter.BuildReject(
            ServiceType.Reject | ServiceType.SelfDiscard, ServiceType.Agreed | ServiceType.SelfDiscard, Me, ["g1", "g2"], MessageHeader.EncodeHint(-3), "refused"u8);
        (ScriptedDaemon daemon, GroupConnection connection) = await OpenAsync(StreamBuilder.Accepting("me").Daemon(reject));
        await using (daemon)
        await using (connection)
        {
            RejectMessage message = Assert.IsType<RejectMessage>(await connection.ReceiveAsync(_hangGuard));

            Assert.Equal(ServiceType.Agreed | ServiceType.SelfDiscard, message.RejectedType);
            Assert.Equal(ServiceType.Agreed | ServiceType.SelfDiscard | ServiceType.Reject, message.ServiceType);
            Assert.Equal(["g1", "g2"], message.Groups);
            Assert.Equal(-3, message.MessageType);
            Assert.Equal("refused", Encoding.ASCII.GetString(message.Body.Span));
            Assert.Equal(Me, message.Sender);
        }
    }

    [Fact]
    public async Task A_rejected_join_reports_caused_by_join()
    {
        byte[] reject = FrameWriter.BuildReject(ServiceType.Reject, ServiceType.CausedByJoin, Me, ["big"], MessageHeader.EncodeHint(0), []);
        byte[] after = Frame(ServiceType.Fifo, "#x#localhost", ["g"], 1, [42]);
        (ScriptedDaemon daemon, GroupConnection connection) = await OpenAsync(StreamBuilder.Accepting("me").Daemon(reject).Daemon(after), seed: null);
        await using (daemon)
        await using (connection)
        {
            RejectMessage message = Assert.IsType<RejectMessage>(await connection.ReceiveAsync(_hangGuard));
            Assert.Equal(ServiceType.CausedByJoin | ServiceType.Reject, message.ServiceType);
            Assert.Equal(["big"], message.Groups);
            Assert.True(message.Body.IsEmpty);

            // The 4 extra bytes were consumed: the next frame parses.
            DataMessage next = Assert.IsType<DataMessage>(await connection.ReceiveAsync(_hangGuard));
            Assert.Equal([42], next.Body.ToArray());
        }
    }

    [Fact]
    public async Task Frames_of_a_big_endian_daemon_are_decoded()
    {
        var gid = new GroupId(0x7F000001, 1795463659, 4);
        byte[] view = BigEndianFrame(ServiceType.RegularMembership | ServiceType.CausedByNetwork, "g1", [Me, "#you#far"], 0, BigEndianViewBody(gid, [["#you#far"], [Me]], localSet: 1));
        byte[] transitional = BigEndianFrame(ServiceType.TransitionMembership, "g1", [], 0, BigEndianGid(gid));
        byte[] data = BigEndianFrame(ServiceType.Safe, "#you#far", ["g1"], 513, [1, 2, 3]);
        byte[] selfLeave = BigEndianFrame(ServiceType.CausedByLeave, "g1", [], 0, []);
        (ScriptedDaemon daemon, GroupConnection connection) = await OpenAsync(StreamBuilder.Accepting("me").Daemon(transitional).Daemon(view).Daemon(data).Daemon(selfLeave));
        await using (daemon)
        await using (connection)
        {
            TransitionalMembershipMessage t = Assert.IsType<TransitionalMembershipMessage>(await connection.ReceiveAsync(_hangGuard));
            Assert.Equal(gid, t.GroupId);

            MembershipMessage v = Assert.IsType<MembershipMessage>(await connection.ReceiveAsync(_hangGuard));
            Assert.Equal(MembershipCause.Network, v.Cause);
            Assert.Equal(gid, v.GroupId);
            Assert.Equal([Me, "#you#far"], v.Members);
            Assert.Equal(0, v.LocalIndex);
            Assert.Equal(2, v.VsSets.Count);
            Assert.Equal([Me], v.LocalVsSet);
            Assert.Null(v.ChangedMember);

            DataMessage d = Assert.IsType<DataMessage>(await connection.ReceiveAsync(_hangGuard));
            Assert.Equal(ServiceType.Safe, d.Service);
            Assert.Equal(513, d.MessageType);
            Assert.True(d.EndianMismatch);
            Assert.Equal([1, 2, 3], d.Body.ToArray());

            SelfLeaveMessage s = Assert.IsType<SelfLeaveMessage>(await connection.ReceiveAsync(_hangGuard));
            Assert.Equal("g1", s.Group);
        }
    }

    [Fact]
    public async Task The_pooled_frame_path_exposes_every_field_without_decoding()
    {
        byte[] data = Frame(ServiceType.Agreed | ServiceType.SelfDiscard, "#you#localhost", ["g1", Me], 7, "hot"u8.ToArray());
        (ScriptedDaemon daemon, GroupConnection connection) = await OpenAsync(StreamBuilder.Accepting("me").Daemon(data));
        await using (daemon)
        await using (connection)
        {
            using SpreadFrame frame = await connection.ReceiveFrameAsync(_hangGuard);

            Assert.Equal(ServiceType.Agreed | ServiceType.SelfDiscard, frame.ServiceType);
            Assert.Equal("#you#localhost"u8.ToArray(), frame.SenderBytes.ToArray());
            Assert.Equal(2, frame.GroupCount);
            Assert.Equal(Me, frame.Group(1));
            Assert.Equal(7, frame.MessageType);
            Assert.False(frame.EndianMismatch);
            Assert.False(frame.IsReject);
            Assert.Equal("hot"u8.ToArray(), frame.Body.ToArray());
            Assert.Throws<ArgumentOutOfRangeException>(() => frame.Group(2));
        }
    }

    [Fact]
    public async Task A_frame_with_a_negative_length_kills_the_session()
    {
        byte[] bad = new byte[MessageHeader.Size];
        new MessageHeader(ServiceType.Agreed, -1, MessageHeader.EncodeHint(0), 0).Format(bad, "#x#y");
        (ScriptedDaemon daemon, GroupConnection connection) = await OpenAsync(StreamBuilder.Accepting("me").Daemon(bad));
        await using (daemon)
        await using (connection)
        {
            SpreadException e = await Assert.ThrowsAsync<SpreadException>(async () => await connection.ReceiveAsync(_hangGuard));

            Assert.Equal(SpreadError.IllegalMessage, e.Error);
            Assert.True(connection.IsClosed);
            Assert.Equal(SpreadError.ConnectionClosed, (await Assert.ThrowsAsync<SpreadException>(async () => await connection.JoinAsync("g", _hangGuard))).Error);
        }
    }

    [Fact]
    public async Task A_membership_body_that_overruns_is_illegal_message()
    {
        byte[] body = new byte[20];
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(12), 3); // three vs-sets promised, none present
        byte[] view = Frame(ServiceType.RegularMembership | ServiceType.CausedByJoin, "g1", [Me], 0, body);
        (ScriptedDaemon daemon, GroupConnection connection) = await OpenAsync(StreamBuilder.Accepting("me").Daemon(view));
        await using (daemon)
        await using (connection)
        {
            SpreadException e = await Assert.ThrowsAsync<SpreadException>(async () => await connection.ReceiveAsync(_hangGuard));
            Assert.Equal(SpreadError.IllegalMessage, e.Error);
        }
    }

    [Fact]
    public async Task The_daemon_closing_ends_receive_with_connection_closed_and_enumeration_with_an_error()
    {
        byte[] one = Frame(ServiceType.Reliable, "#x#localhost", ["g"], 0, [1]);
        (ScriptedDaemon daemon, GroupConnection connection) = await OpenAsync(StreamBuilder.Accepting("me").Daemon(one).DaemonCloses());
        await using (daemon)
        await using (connection)
        {
            var seen = new List<SpreadMessage>();
            SpreadException e = await Assert.ThrowsAsync<SpreadException>(async () =>
            {
                await foreach (SpreadMessage m in connection.ReadAllAsync(_hangGuard))
                {
                    seen.Add(m);
                }
            });

            Assert.Equal(SpreadError.ConnectionClosed, e.Error);
            Assert.Single(seen);
            Assert.True(connection.IsClosed);
        }
    }

    [Fact]
    public async Task Enumeration_ends_quietly_after_a_local_disconnect()
    {
        byte[] one = Frame(ServiceType.Reliable, "#x#localhost", ["g"], 0, [1]);
        byte[] kill = Frame(ServiceType.KillRequest, Me, [Me], 0, []);
        (ScriptedDaemon daemon, GroupConnection connection) = await OpenAsync(StreamBuilder.Accepting("me").Daemon(one).Client(kill));
        await using (daemon)
        await using (connection)
        {
            int count = 0;
            await foreach (SpreadMessage m in connection.ReadAllAsync(_hangGuard))
            {
                count++;
                await connection.DisconnectAsync(_hangGuard);
            }

            Assert.Equal(1, count);
            Assert.Equal(ClientBytes("me", kill), await daemon.Completion.WaitAsync(_hangGuard));
        }
    }

    [Fact]
    public async Task One_reader_at_a_time_and_a_cancelled_wait_leaves_the_stream_usable()
    {
        byte[] ping = Frame(ServiceType.Fifo, Me, ["g"], 0, []);
        byte[] reply = Frame(ServiceType.Fifo, "#x#localhost", ["g"], 9, [9]);
        (ScriptedDaemon daemon, GroupConnection connection) = await OpenAsync(StreamBuilder.Accepting("me").Client(ping).Daemon(reply));
        await using (daemon)
        await using (connection)
        {
            using var cancel = new CancellationTokenSource();
            Task<SpreadMessage> pending = connection.ReceiveAsync(cancel.Token).AsTask();
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await connection.ReceiveAsync(_hangGuard));
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);

            // The daemon answers only after this send, so nothing was half read when the wait was cancelled.
            await connection.MulticastAsync(ServiceType.Fifo, "g", 0, ReadOnlyMemory<byte>.Empty, _hangGuard);
            DataMessage m = Assert.IsType<DataMessage>(await connection.ReceiveAsync(_hangGuard));
            Assert.Equal(9, m.MessageType);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("tab\t")]
    [InlineData("this-group-name-is-32-bytes-long")]
    public async Task Join_and_leave_check_group_names_locally(string group)
    {
        (ScriptedDaemon daemon, GroupConnection connection) = await OpenAsync(StreamBuilder.Accepting("me"));
        await using (daemon)
        {
            Assert.Equal(SpreadError.IllegalGroup, (await Assert.ThrowsAsync<SpreadException>(async () => await connection.JoinAsync(group, _hangGuard))).Error);
            Assert.Equal(SpreadError.IllegalGroup, (await Assert.ThrowsAsync<SpreadException>(async () => await connection.LeaveAsync(group, _hangGuard))).Error);
            connection.Abort();
            Assert.Equal(ClientBytes("me"), await daemon.Completion.WaitAsync(_hangGuard));
        }
    }

    [Theory]
    [InlineData(ServiceType.None)]
    [InlineData(ServiceType.Agreed | ServiceType.Safe)]
    [InlineData(ServiceType.SelfDiscard)]
    [InlineData(ServiceType.JoinRequest)]
    [InlineData(ServiceType.Agreed | ServiceType.Reject)]
    public async Task Multicast_checks_the_service_locally(ServiceType service)
    {
        (ScriptedDaemon daemon, GroupConnection connection) = await OpenAsync(StreamBuilder.Accepting("me"));
        await using (daemon)
        {
            Assert.Equal(SpreadError.IllegalService, (await Assert.ThrowsAsync<SpreadException>(async () => await connection.MulticastAsync(service, "g", 0, new byte[1], _hangGuard))).Error);
            connection.Abort();
            Assert.Equal(ClientBytes("me"), await daemon.Completion.WaitAsync(_hangGuard));
        }
    }

    [Fact]
    public async Task Multicast_checks_length_and_group_count_locally()
    {
        (ScriptedDaemon daemon, GroupConnection connection) = await OpenAsync(StreamBuilder.Accepting("me"));
        await using (daemon)
        {
            byte[] tooLong = new byte[SpreadLimits.MaxMessageBodyLength - MessageHeader.Size - (2 * 32) + 1];
            Assert.Equal(SpreadError.MessageTooLong, (await Assert.ThrowsAsync<SpreadException>(async () => await connection.MulticastAsync(ServiceType.Agreed, ["a", "b"], 0, tooLong, _hangGuard))).Error);
            Assert.Equal(SpreadError.IllegalGroup, (await Assert.ThrowsAsync<SpreadException>(async () => await connection.MulticastAsync(ServiceType.Agreed, [], 0, new byte[1], _hangGuard))).Error);
            string[] many = [.. Enumerable.Range(0, 101).Select(i => $"g{i}")];
            Assert.Equal(SpreadError.IllegalGroup, (await Assert.ThrowsAsync<SpreadException>(async () => await connection.MulticastAsync(ServiceType.Agreed, many, 0, new byte[1], _hangGuard))).Error);
            connection.Abort();
            Assert.Equal(ClientBytes("me"), await daemon.Completion.WaitAsync(_hangGuard));
        }
    }

    [Fact]
    public async Task Long_destination_names_are_truncated_and_a_hundred_groups_fit()
    {
        string[] hundred = [.. Enumerable.Range(0, 100).Select(i => $"g{i}")];
        byte[] toHundred = Frame(ServiceType.Unreliable, Me, hundred, -1, [5]);
        byte[] truncated = Frame(ServiceType.Causal, Me, [new string('n', 31)], 0, []);
        (ScriptedDaemon daemon, GroupConnection connection) = await OpenAsync(StreamBuilder.Accepting("me").Client(toHundred).Client(truncated));
        await using (daemon)
        {
            await connection.MulticastAsync(ServiceType.Unreliable, hundred, -1, new byte[] { 5 }, _hangGuard);
            await connection.MulticastAsync(ServiceType.Causal, new string('n', 40), 0, ReadOnlyMemory<byte>.Empty, _hangGuard);
            connection.Abort();
            Assert.Equal(ClientBytes("me", toHundred, truncated), await daemon.Completion.WaitAsync(_hangGuard));
        }
    }

    [Fact]
    public async Task Sends_after_disconnect_fail_with_connection_closed()
    {
        byte[] kill = Frame(ServiceType.KillRequest, Me, [Me], 0, []);
        (ScriptedDaemon daemon, GroupConnection connection) = await OpenAsync(StreamBuilder.Accepting("me").Client(kill));
        await using (daemon)
        {
            await connection.DisconnectAsync(_hangGuard);
            await connection.DisconnectAsync(_hangGuard); // idempotent
            Assert.Equal(SpreadError.ConnectionClosed, (await Assert.ThrowsAsync<SpreadException>(async () => await connection.MulticastAsync(ServiceType.Agreed, "g", 0, new byte[1], _hangGuard))).Error);
            Assert.Equal(SpreadError.ConnectionClosed, (await Assert.ThrowsAsync<SpreadException>(async () => await connection.ReceiveAsync(_hangGuard))).Error);
            Assert.Equal(ClientBytes("me", kill), await daemon.Completion.WaitAsync(_hangGuard));
        }
    }

    private static byte[] ClientBytes(string name, params byte[][] frames) =>
        [.. new ConnectRequest(SpreadLimits.ProtocolVersion, 1, name).Encode(), .. AuthExchange.EncodeChoice([AuthExchange.NullMethod]), .. frames.SelectMany(f => f)];

    private static byte[] BigEndianFrame(ServiceType type, string sender, string[] groups, short messageType, byte[] body)
    {
        byte[] frame = new byte[MessageHeader.Size + (32 * groups.Length) + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)type);
        NameField.Write(sender, frame.AsSpan(4, 32));
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(36), groups.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(40), ((uint)(ushort)messageType) << 8);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(44), body.Length);
        for (int i = 0; i < groups.Length; i++)
        {
            NameField.Write(groups[i], frame.AsSpan(MessageHeader.Size + (32 * i), 32));
        }

        body.CopyTo(frame.AsSpan(MessageHeader.Size + (32 * groups.Length)));
        return frame;
    }

    private static byte[] BigEndianGid(GroupId gid)
    {
        byte[] bytes = new byte[12];
        BinaryPrimitives.WriteInt32BigEndian(bytes, gid.ProcId);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), gid.Time);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), gid.Index);
        return bytes;
    }

    private static byte[] BigEndianViewBody(GroupId gid, string[][] sets, int localSet)
    {
        var body = new List<byte>(BigEndianGid(gid));
        int localOffset = sets.Take(localSet).Sum(s => 4 + (32 * s.Length));
        body.AddRange(BigEndianInt(sets.Length));
        body.AddRange(BigEndianInt(localOffset));
        foreach (string[] set in sets)
        {
            body.AddRange(BigEndianInt(set.Length));
            foreach (string member in set)
            {
                byte[] field = new byte[32];
                NameField.Write(member, field);
                body.AddRange(field);
            }
        }

        return [.. body];
    }

    private static byte[] BigEndianInt(int value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }
}
