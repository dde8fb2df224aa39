using System.Buffers.Binary;
using Conclave.Client;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Tests;

/// <summary>Malformed, hostile and half-finished input closes that session only; the daemon keeps serving.</summary>
public sealed class BadInputTests
{
    /// <summary>
    /// The handshake timeout of the tests that wait it out. The probe that proves the daemon still serves must finish
    /// each handshake phase within it too, so it is far above what a starved 2-core CI machine needs for one phase.
    /// </summary>
    private static readonly TimeSpan WaitedOutHandshakeTimeout = TimeSpan.FromSeconds(5);

    private static byte[] Frame(ServiceType type, string sender, string[] groups, uint hint, int bodyLength) =>
        FrameWriter.Build(type, sender, groups, hint, new byte[bodyLength]);

    /// <summary>Proves the daemon still serves: a fresh client's message comes back to it.</summary>
    private static async Task AssertStillServingAsync(TestDaemon daemon)
    {
        await using GroupConnection probe = await daemon.ConnectAsync("probe");
        await probe.JoinAndWaitAsync("probe-group");
        await probe.MulticastAsync(ServiceType.Agreed, "probe-group", 1, new byte[] { 7 });
        Assert.Equal(new byte[] { 7 }, (await probe.NextAsync<DataMessage>()).Body.ToArray());
    }

    public static TheoryData<string, byte[]> MalformedFrames()
    {
        const string me = "#m#localhost";
        uint hint = MessageHeader.EncodeHint(0);
        byte[] oversize = Frame(ServiceType.Agreed, me, ["g"], hint, 0);
        BinaryPrimitives.WriteInt32LittleEndian(oversize.AsSpan(44), SpreadLimits.MaxMessageBodyLength);
        byte[] negativeLength = Frame(ServiceType.Agreed, me, ["g"], hint, 0);
        BinaryPrimitives.WriteInt32LittleEndian(negativeLength.AsSpan(44), -5);
        return new TheoryData<string, byte[]>
        {
            { "two services", Frame(ServiceType.Agreed | ServiceType.Fifo, me, ["g"], hint, 0) },
            { "no service", Frame(ServiceType.SelfDiscard, me, ["g"], hint, 0) },
            { "groups message", Frame(ServiceType.GroupsMessage, me, ["g"], hint, 0) },
            { "groups message with a service", Frame(ServiceType.GroupsMessage | ServiceType.Agreed, me, ["g"], hint, 0) },
            { "unknown bit", Frame(ServiceType.Agreed | (ServiceType)0x0100_0000, me, ["g"], hint, 0) },
            { "spoofed private name", Frame(ServiceType.Agreed, "#other#localhost", ["g"], hint, 0) },
            { "other daemon's name", Frame(ServiceType.Agreed, "#m#elsewhere", ["g"], hint, 0) },
            { "101 groups", Frame(ServiceType.Agreed, me, [.. Enumerable.Range(0, 101).Select(i => $"g{i}")], hint, 0) },
            { "bad hint bit", Frame(ServiceType.Agreed, me, ["g"], hint | 0x0100_0000, 0) },
            { "oversize length", oversize },
            { "negative length", negativeLength },
            { "join of two groups", Frame(ServiceType.JoinRequest, me, ["a", "b"], hint, 0) },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedFrames))]
    public async Task A_malformed_frame_closes_only_its_session(string what, byte[] frame)
    {
        await using TestDaemon daemon = TestDaemon.Start();
        await using GroupConnection observer = await daemon.ConnectAsync("obs");
        await observer.JoinAndWaitAsync("g");
        await using RawClient bad = await RawClient.HandshakeAsync(daemon, "m");
        await bad.SendAsync(Frame(ServiceType.JoinRequest, "#m#localhost", ["g"], MessageHeader.EncodeHint(0), 0));
        await observer.NextAsync<MembershipMessage>();

        await bad.SendAsync(frame);

        await bad.ReadToEndAsync(); // returns only once the daemon has closed the session
        MembershipMessage gone = await observer.NextAsync<MembershipMessage>();
        Assert.Equal(MembershipCause.Disconnect, gone.Cause);
        Assert.True(daemon.Daemon.Statistics.MalformedFrames == 1, $"{what}: not counted as malformed");
        await AssertStillServingAsync(daemon);
    }

    [Fact]
    public async Task A_half_finished_handshake_is_dropped_after_the_timeout_while_others_connect()
    {
        await using TestDaemon daemon = TestDaemon.Start(o => o with { HandshakeTimeout = WaitedOutHandshakeTimeout });
        await using RawClient stalled = await RawClient.ConnectAsync(daemon);
        await stalled.SendAsync([4, 4]);

        await AssertStillServingAsync(daemon);
        Assert.Empty(await stalled.ReadToEndAsync());
        Assert.Equal(1, daemon.Daemon.Statistics.HandshakesRejected);
    }

    [Fact]
    public async Task Random_garbage_after_the_handshake_never_hurts_the_daemon()
    {
        await using TestDaemon daemon = TestDaemon.Start();
        var random = new Random(20261123);
        for (int i = 0; i < 50; i++)
        {
            await using RawClient fuzz = await RawClient.HandshakeAsync(daemon, $"f{i}");
            byte[] garbage = new byte[random.Next(1, 200)];
            random.NextBytes(garbage);
            await fuzz.SendAsync(garbage);
        }

        await AssertStillServingAsync(daemon);
    }

    [Fact]
    public async Task Random_garbage_as_a_handshake_gets_a_reject_or_a_close()
    {
        await using TestDaemon daemon = TestDaemon.Start(o => o with { HandshakeTimeout = WaitedOutHandshakeTimeout });
        var random = new Random(4803);
        var fuzzers = new List<RawClient>();
        try
        {
            // All at once: the cases that stall wait out one timeout together instead of one after the other.
            for (int i = 0; i < 50; i++)
            {
                RawClient fuzz = await RawClient.ConnectAsync(daemon);
                fuzzers.Add(fuzz);
                byte[] garbage = new byte[random.Next(1, 120)];
                random.NextBytes(garbage);
                await fuzz.SendAsync(garbage);
            }

            byte[][] replies = await Task.WhenAll(fuzzers.Select(f => f.ReadToEndAsync()));
            for (int i = 0; i < replies.Length; i++)
            {
                Assert.True(replies[i].Length <= 40, $"case {i}: {replies[i].Length} bytes back");
            }
        }
        finally
        {
            foreach (RawClient fuzz in fuzzers)
            {
                await fuzz.DisposeAsync();
            }
        }

        await AssertStillServingAsync(daemon);
    }

    [Fact]
    public async Task Join_with_an_illegal_group_name_gets_a_reject_message()
    {
        await using TestDaemon daemon = TestDaemon.Start();
        await using RawClient raw = await RawClient.HandshakeAsync(daemon, "r");
        byte[] join = Frame(ServiceType.JoinRequest, "#r#localhost", ["bad name"], MessageHeader.EncodeHint(0), 0);

        await raw.SendAsync(join);

        byte[] header = await raw.ReadExactAsync(MessageHeader.Size + 4);
        MessageHeader parsed = MessageHeader.Parse(header);
        Assert.Equal(ServiceType.Reject | ServiceType.CausedByJoin, parsed.Type);
        Assert.Equal(1, parsed.NumGroups);
        Assert.Equal((uint)ServiceType.JoinRequest | MessageHeader.EndianMarker, BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(48)));
        Assert.Equal("bad name", NameField.Read(await raw.ReadExactAsync(32)));
        Assert.Equal(1, daemon.Daemon.Statistics.Rejects);
    }

    [Fact]
    public async Task Join_beyond_the_local_member_limit_gets_a_reject_message_through_the_client_library()
    {
        await using TestDaemon daemon = TestDaemon.Start(o => o with { MaxLocalGroupMembers = 1 });
        await using GroupConnection first = await daemon.ConnectAsync("first");
        await using GroupConnection second = await daemon.ConnectAsync("second");
        await first.JoinAndWaitAsync("tiny");

        await second.JoinAsync("tiny");

        RejectMessage reject = await second.NextAsync<RejectMessage>();
        Assert.Equal(ServiceType.JoinRequest, reject.RejectedType & ServiceType.JoinRequest);
        Assert.Equal(["tiny"], reject.Groups);
    }

    [Fact]
    public async Task Too_many_sessions_get_reject_quota()
    {
        await using TestDaemon daemon = TestDaemon.Start(o => o with { MaxSessions = 1 });
        await using GroupConnection only = await daemon.ConnectAsync("only");

        SpreadException refused = await Assert.ThrowsAsync<SpreadException>(async () => await daemon.ConnectAsync("extra"));

        Assert.Equal(SpreadError.RejectQuota, refused.Error);
    }
}
