using System.Text;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.EndToEnd;

/// <summary>The client against an in-process Conclave daemon, over TCP and the Unix socket.</summary>
public sealed class ClientAgainstDaemonTests : IAsyncLifetime
{
    private readonly CancellationToken _hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;
    private InProcessDaemon _daemon = null!;

    public Task InitializeAsync()
    {
        _daemon = InProcessDaemon.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    private ValueTask<GroupConnection> ConnectAsync(string name, bool unix = false, bool membership = true) =>
        GroupConnection.ConnectAsync(_daemon.SpreadName(unix), name, membership, _hangGuard);

    private async Task<T> NextAsync<T>(GroupConnection connection)
        where T : SpreadMessage => Assert.IsType<T>(await connection.ReceiveAsync(_hangGuard));

    private async Task<MembershipMessage> JoinAndSeeAsync(GroupConnection connection, string group, params GroupConnection[] others)
    {
        await connection.JoinAsync(group, _hangGuard);
        MembershipMessage view = await NextAsync<MembershipMessage>(connection);
        foreach (GroupConnection other in others)
        {
            Assert.Equal(view.GroupId, (await NextAsync<MembershipMessage>(other)).GroupId);
        }

        return view;
    }

    [Fact]
    public async Task A_queued_frame_goes_out_in_queue_order_and_a_refused_or_oversized_one_is_not_queued()
    {
        await using GroupConnection alice = await ConnectAsync("alice");
        await using GroupConnection bob = await ConnectAsync("bob");
        await JoinAndSeeAsync(alice, "q1");
        await JoinAndSeeAsync(bob, "q1", alice);

        static bool Write(byte[] body, Span<byte> destination) => body.AsSpan().TryCopyTo(destination);
        Assert.Equal(GroupConnection.QueuedFrame.Refused, alice.TryQueueFrame(ServiceType.Agreed, "q1", null, 5, 3, static (_, _) => false, 0));
        Assert.Equal(GroupConnection.QueuedFrame.NotQueued, alice.TryQueueFrame(ServiceType.Agreed, "q1", null, 5, 64 * 1024, static (_, _) => true, 0));
        Assert.Equal(GroupConnection.QueuedFrame.QueuedWriter, alice.TryQueueFrame(ServiceType.Agreed, "q1", null, 6, 3, Write, "one"u8.ToArray()));

        // Queued behind the first (its writer has not written yet), then both go out in one write, in order.
        Assert.Equal(GroupConnection.QueuedFrame.Queued, alice.TryQueueFrame(ServiceType.Agreed, "q1", null, 7, 3, Write, "two"u8.ToArray()));
        await alice.WriteQueuedAsync();
        foreach ((short type, string body) in new[] { ((short)6, "one"), ((short)7, "two") })
        {
            DataMessage m = await NextAsync<DataMessage>(bob);
            Assert.Equal(type, m.MessageType);
            Assert.Equal(body, Encoding.ASCII.GetString(m.Body.Span));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Join_views_leave_self_leave_and_disconnect(bool unix)
    {
        await using GroupConnection alice = await ConnectAsync("alice", unix);
        await using GroupConnection bob = await ConnectAsync("bob", unix);
        Assert.Equal("#alice#localhost", alice.PrivateGroup);

        MembershipMessage first = await JoinAndSeeAsync(alice, "g1");
        Assert.Equal(MembershipCause.Join, first.Cause);
        Assert.Equal(["#alice#localhost"], first.Members);
        Assert.Equal("#alice#localhost", first.ChangedMember);

        MembershipMessage second = await JoinAndSeeAsync(bob, "g1", alice);
        Assert.Equal(["#alice#localhost", "#bob#localhost"], second.Members);
        Assert.Equal(1, second.LocalIndex);
        Assert.Equal("#bob#localhost", second.ChangedMember);
        Assert.Equal(first.GroupId.Index + 1, second.GroupId.Index);

        await bob.LeaveAsync("g1", _hangGuard);
        Assert.Equal("g1", (await NextAsync<SelfLeaveMessage>(bob)).Group);
        MembershipMessage afterLeave = await NextAsync<MembershipMessage>(alice);
        Assert.Equal(MembershipCause.Leave, afterLeave.Cause);
        Assert.Equal("#bob#localhost", afterLeave.ChangedMember);

        await JoinAndSeeAsync(bob, "g1", alice);
        await bob.DisconnectAsync(_hangGuard);
        MembershipMessage afterDisconnect = await NextAsync<MembershipMessage>(alice);
        Assert.Equal(MembershipCause.Disconnect, afterDisconnect.Cause);
        Assert.Equal(["#alice#localhost"], afterDisconnect.Members);

        await using GroupConnection carol = await ConnectAsync("carol", unix);
        await JoinAndSeeAsync(carol, "g1", alice);
        carol.Abort();
        Assert.Equal(MembershipCause.Disconnect, (await NextAsync<MembershipMessage>(alice)).Cause);
    }

    [Theory]
    [InlineData(ServiceType.Unreliable, false)]
    [InlineData(ServiceType.Reliable, true)]
    [InlineData(ServiceType.Fifo, false)]
    [InlineData(ServiceType.Causal, true)]
    [InlineData(ServiceType.Agreed, false)]
    [InlineData(ServiceType.Safe, true)]
    public async Task Every_service_reaches_every_member_including_the_sender(ServiceType service, bool unix)
    {
        await using GroupConnection alice = await ConnectAsync("alice", unix);
        await using GroupConnection bob = await ConnectAsync("bob", unix);
        await JoinAndSeeAsync(alice, "g1");
        await JoinAndSeeAsync(bob, "g1", alice);

        await alice.MulticastAsync(service, "g1", -7, Encoding.ASCII.GetBytes("svc-" + service), _hangGuard);

        foreach (GroupConnection member in new[] { alice, bob })
        {
            DataMessage m = await NextAsync<DataMessage>(member);
            Assert.Equal(service, m.ServiceType);
            Assert.Equal(service, m.Service);
            Assert.Equal("#alice#localhost", m.Sender);
            Assert.Equal(["g1"], m.Groups);
            Assert.Equal(-7, m.MessageType);
            Assert.False(m.EndianMismatch);
            Assert.Equal("svc-" + service, Encoding.ASCII.GetString(m.Body.Span));
        }
    }

    [Fact]
    public async Task Self_discard_multigroup_unicast_and_open_groups()
    {
        await using GroupConnection alice = await ConnectAsync("alice");
        await using GroupConnection bob = await ConnectAsync("bob");
        await using GroupConnection carol = await ConnectAsync("carol", membership: false);
        await JoinAndSeeAsync(alice, "g1");
        await JoinAndSeeAsync(alice, "g2");
        await JoinAndSeeAsync(bob, "g1", alice);

        // SELF_DISCARD: bob gets it with the bit kept in the type word; alice does not.
        await alice.MulticastAsync(ServiceType.Agreed | ServiceType.SelfDiscard, "g1", 1, "sd"u8.ToArray(), _hangGuard);
        DataMessage selfDiscard = await NextAsync<DataMessage>(bob);
        Assert.True(selfDiscard.SelfDiscard);

        // Multigroup: alice is in both groups and still gets one copy; every receiver sees the whole list.
        await alice.MulticastAsync(ServiceType.Agreed, ["g1", "g2"], 2, "multi"u8.ToArray(), _hangGuard);
        DataMessage multiAlice = await NextAsync<DataMessage>(alice);
        Assert.Equal(["g1", "g2"], multiAlice.Groups);
        Assert.Equal(2, multiAlice.MessageType);
        Assert.Equal(["g1", "g2"], (await NextAsync<DataMessage>(bob)).Groups);

        // Unicast by private name, and mixed with a group.
        await alice.MulticastAsync(ServiceType.Fifo, bob.PrivateGroup, 3, "to-bob"u8.ToArray(), _hangGuard);
        DataMessage unicast = await NextAsync<DataMessage>(bob);
        Assert.Equal([bob.PrivateGroup], unicast.Groups);
        await alice.MulticastAsync(ServiceType.Reliable, ["g2", carol.PrivateGroup], 4, "mixed"u8.ToArray(), _hangGuard);
        Assert.Equal("mixed", Encoding.ASCII.GetString((await NextAsync<DataMessage>(alice)).Body.Span));
        Assert.Equal(["g2", "#carol#localhost"], (await NextAsync<DataMessage>(carol)).Groups);

        // Open groups: carol is no member of g1 and may still send to it; empty groups swallow messages.
        await carol.MulticastAsync(ServiceType.Agreed, "nobody-here", 5, "lost"u8.ToArray(), _hangGuard);
        await carol.MulticastAsync(ServiceType.Agreed, "g1", 6, "from-carol"u8.ToArray(), _hangGuard);
        Assert.Equal(6, (await NextAsync<DataMessage>(alice)).MessageType);
        Assert.Equal(6, (await NextAsync<DataMessage>(bob)).MessageType);
    }

    [Fact]
    public async Task The_largest_legal_message_arrives_intact_over_both_transports()
    {
        await using GroupConnection alice = await ConnectAsync("alice");
        await using GroupConnection bob = await ConnectAsync("bob", unix: true);
        await JoinAndSeeAsync(alice, "g1");
        await JoinAndSeeAsync(bob, "g1", alice);
        byte[] body = new byte[SpreadLimits.MaxMessageBodyLength - MessageHeader.Size - SpreadLimits.GroupNameSize];
        for (int i = 0; i < body.Length; i++)
        {
            body[i] = (byte)(i % 251);
        }

        // The sender reads its own copy concurrently, as a client must while writing megabytes.
        Task<SpreadMessage> own = alice.ReceiveAsync(_hangGuard).AsTask();
        await alice.MulticastAsync(ServiceType.Agreed, "g1", 8, body, _hangGuard);

        DataMessage received = await NextAsync<DataMessage>(bob);
        Assert.True(body.AsSpan().SequenceEqual(received.Body.Span));
        Assert.Equal(body.Length, Assert.IsType<DataMessage>(await own).Body.Length);
    }

    [Fact]
    public async Task Many_messages_stream_in_order_through_the_pooled_frame_path()
    {
        await using GroupConnection alice = await ConnectAsync("alice", unix: true);
        await JoinAndSeeAsync(alice, "g1");
        const int count = 500; // below the daemon's 1,000-message bound, so no pacing is needed
        Task sending = Task.Run(async () =>
        {
            byte[] body = new byte[4];
            for (int i = 0; i < count; i++)
            {
                BitConverter.TryWriteBytes(body, i);
                await alice.MulticastAsync(ServiceType.Fifo, "g1", 0, body, _hangGuard);
            }
        });

        for (int i = 0; i < count; i++)
        {
            using SpreadFrame frame = await alice.ReceiveFrameAsync(_hangGuard);
            Assert.Equal(i, BitConverter.ToInt32(frame.Body.Span));
        }

        await sending;
    }

    [Fact]
    public async Task Concurrent_senders_on_one_connection_keep_frames_whole_and_each_sender_in_order()
    {
        await using GroupConnection alice = await ConnectAsync("alice");
        await using GroupConnection bob = await ConnectAsync("bob", unix: true);
        await JoinAndSeeAsync(alice, "g1");
        await JoinAndSeeAsync(bob, "g1", alice);
        const int senders = 8;
        const int each = 100; // 800 in all, below the daemon's 1,000-message bound for the non-reading sender

        Task[] sending = [.. Enumerable.Range(0, senders).Select(s => Task.Run(async () =>
        {
            for (int i = 0; i < each; i++)
            {
                // Mixed sizes: frames that share a batch and frames sent around it from the caller's memory.
                byte[] body = new byte[i % 10 == 0 ? 20_000 : 1 + (i % 7)];
                body[0] = (byte)i;
                await alice.MulticastAsync(ServiceType.Fifo, "g1", (short)s, body, _hangGuard);
            }
        }))];

        int[] next = new int[senders];
        for (int n = 0; n < senders * each; n++)
        {
            DataMessage m = await NextAsync<DataMessage>(bob);
            int s = m.MessageType;
            Assert.Equal((byte)next[s], m.Body.Span[0]);
            Assert.Equal(next[s] % 10 == 0 ? 20_000 : 1 + (next[s] % 7), m.Body.Length);
            next[s]++;
        }

        await Task.WhenAll(sending);
        Assert.All(next, count => Assert.Equal(each, count));
    }

    [Fact]
    public async Task A_hundred_concurrent_clients_converge_on_one_view_and_all_get_a_multicast()
    {
        const int clients = 100;
        GroupConnection[] crowd = await Task.WhenAll(Enumerable.Range(0, clients).Select(i => ConnectAsync($"c{i}", unix: i % 2 == 0).AsTask()));
        try
        {
            await Task.WhenAll(crowd.Select(c => c.JoinAsync("crowd", _hangGuard).AsTask()));

            // Views arrive in order; each client reads until it sees everyone (no sleeping, no timing).
            await Task.WhenAll(crowd.Select(async c =>
            {
                while (await c.ReceiveAsync(_hangGuard) is not MembershipMessage { Members.Count: clients })
                {
                }
            }));

            await crowd[0].MulticastAsync(ServiceType.Agreed, "crowd", 42, "hello, all"u8.ToArray(), _hangGuard);
            DataMessage[] received = await Task.WhenAll(crowd.Select(async c => Assert.IsType<DataMessage>(await c.ReceiveAsync(_hangGuard))));
            Assert.All(received, m => Assert.Equal(("#c0#localhost", 42), (m.Sender, (int)m.MessageType)));
        }
        finally
        {
            foreach (GroupConnection c in crowd)
            {
                await c.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Name_rejects_come_back_typed()
    {
        await using GroupConnection alice = await ConnectAsync("alice");
        Assert.Equal(SpreadError.RejectNotUnique, (await Assert.ThrowsAsync<SpreadException>(async () => await ConnectAsync("alice"))).Error);
        Assert.Equal(SpreadError.RejectIllegalName, (await Assert.ThrowsAsync<SpreadException>(async () => await ConnectAsync("a#b"))).Error);
        Assert.Equal(SpreadError.RejectIllegalName, (await Assert.ThrowsAsync<SpreadException>(async () => await ConnectAsync("a b", unix: true))).Error);

        await using GroupConnection generated = await ConnectAsync(string.Empty);
        Assert.Matches("^#r[0-9]{1,4}-[0-9]+#localhost$", generated.PrivateGroup);
    }

    [Fact]
    public async Task A_join_beyond_the_daemons_member_limit_comes_back_as_a_reject_message()
    {
        await using InProcessDaemon small = InProcessDaemon.Start(o => o with { MaxLocalGroupMembers = 1 });
        await using GroupConnection alice = await GroupConnection.ConnectAsync(small.TcpSpreadName, "alice", true, _hangGuard);
        await using GroupConnection bob = await GroupConnection.ConnectAsync(small.TcpSpreadName, "bob", true, _hangGuard);
        await alice.JoinAsync("g1", _hangGuard);
        await NextAsync<MembershipMessage>(alice);

        await bob.JoinAsync("g1", _hangGuard);

        RejectMessage reject = await NextAsync<RejectMessage>(bob);
        Assert.Equal(ServiceType.Reject, reject.ServiceType & ServiceType.Reject);
        Assert.Equal(["g1"], reject.Groups);
        Assert.True((reject.ServiceType & (ServiceType.JoinRequest | ServiceType.CausedByJoin)) != 0, $"reject type {reject.ServiceType}");
    }
}
