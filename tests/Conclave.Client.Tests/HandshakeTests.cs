using System.Net;
using System.Net.Sockets;
using Conclave.Client.Tests.Conformance;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests;

/// <summary>Connect-time behaviour: recorded rejects, version and auth failures, names, spread names.</summary>
public sealed class HandshakeTests
{
    private readonly CancellationToken _hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;

    [Theory]
    [InlineData("illegal_hash_a#b", "a#b", SpreadError.RejectIllegalName)]
    [InlineData("illegal_space_raw", "a b", SpreadError.RejectIllegalName)]
    [InlineData("alice_duplicate", "alice", SpreadError.RejectNotUnique)]
    public async Task Recorded_name_rejects_surface_as_typed_errors(string label, string name, SpreadError expected)
    {
        TranscriptStream stream = Transcript.Load("03_connect_rejects.json").Stream(label);
        await using var daemon = new ScriptedDaemon(stream, 1, _hangGuard);

        SpreadException e = await Assert.ThrowsAsync<SpreadException>(async () => await GroupConnection.ConnectAsync(daemon.SpreadName, name, true, _hangGuard));

        Assert.Equal(expected, e.Error);
        Assert.Equal(stream.ClientBytes, await daemon.Completion.WaitAsync(_hangGuard));
    }

    [Fact]
    public async Task Over_long_private_names_are_truncated_to_ten_bytes_as_libspread_does()
    {
        TranscriptStream stream = StreamBuilder.Accepting("abcdefghij").Build();
        await using var daemon = new ScriptedDaemon(stream, null, _hangGuard);

        GroupConnection connection = await GroupConnection.ConnectAsync(daemon.SpreadName, "abcdefghijk", true, _hangGuard);
        connection.Abort();

        Assert.Equal("#abcdefghij#localhost", connection.PrivateGroup);
        Assert.Equal(stream.ClientBytes, await daemon.Completion.WaitAsync(_hangGuard));
    }

    [Theory]
    [InlineData("v3_0_0_too_old", SpreadError.RejectVersion)]
    [InlineData("auth_empty_choice", SpreadError.RejectAuth)]
    [InlineData("auth_IP_not_allowed", SpreadError.RejectAuth)]
    public async Task Recorded_version_and_auth_rejects_surface_as_typed_errors(string label, SpreadError expected)
    {
        // The raw clients of these recordings sent other bytes; only the daemon's answers are replayed.
        TranscriptStream recorded = Transcript.Load("14_handshake_variants.json").Stream(label);
        await using var daemon = new ScriptedDaemon(WithOurClientBytes(recorded), 1, _hangGuard);

        SpreadException e = await Assert.ThrowsAsync<SpreadException>(async () => await GroupConnection.ConnectAsync(daemon.SpreadName, "x", true, _hangGuard));

        Assert.Equal(expected, e.Error);
    }

    [Fact]
    public async Task A_daemon_without_the_NULL_method_is_refused_before_choosing()
    {
        var stream = new StreamBuilder()
            .Client(new ConnectRequest(SpreadLimits.ProtocolVersion, 1, "x").Encode())
            .Daemon(AuthExchange.EncodeMethodList(["IP"]))
            .Build();
        await using var daemon = new ScriptedDaemon(stream, null, _hangGuard);

        SpreadException e = await Assert.ThrowsAsync<SpreadException>(async () => await GroupConnection.ConnectAsync(daemon.SpreadName, "x", true, _hangGuard));

        Assert.Equal(SpreadError.RejectAuth, e.Error);
        Assert.Equal(stream.ClientBytes, await daemon.Completion.WaitAsync(_hangGuard));
    }

    [Fact]
    public async Task A_daemon_older_than_3_1_is_refused()
    {
        var stream = new StreamBuilder()
            .Client(new ConnectRequest(SpreadLimits.ProtocolVersion, 1, "x").Encode())
            .Daemon(AuthExchange.EncodeMethodList([AuthExchange.NullMethod]))
            .Client(AuthExchange.EncodeChoice([AuthExchange.NullMethod]))
            .Daemon(AcceptReply.Encode(SpreadLimits.ProtocolVersion, new SpreadVersion(3, 0, 0), "#x#old"))
            .Build();
        await using var daemon = new ScriptedDaemon(stream, 1, _hangGuard);

        SpreadException e = await Assert.ThrowsAsync<SpreadException>(async () => await GroupConnection.ConnectAsync(daemon.SpreadName, "x", true, _hangGuard));

        Assert.Equal(SpreadError.RejectVersion, e.Error);
    }

    [Fact]
    public async Task A_close_in_the_middle_of_the_accept_reply_is_connection_closed()
    {
        var stream = new StreamBuilder()
            .Client(new ConnectRequest(SpreadLimits.ProtocolVersion, 1, "x").Encode())
            .Daemon(AuthExchange.EncodeMethodList([AuthExchange.NullMethod]))
            .Client(AuthExchange.EncodeChoice([AuthExchange.NullMethod]))
            .Daemon([1, 4, 4])
            .DaemonCloses()
            .Build();
        await using var daemon = new ScriptedDaemon(stream, 1, _hangGuard);

        SpreadException e = await Assert.ThrowsAsync<SpreadException>(async () => await GroupConnection.ConnectAsync(daemon.SpreadName, "x", true, _hangGuard));

        Assert.Equal(SpreadError.ConnectionClosed, e.Error);
    }

    [Fact]
    public async Task No_listening_daemon_is_could_not_connect()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        SpreadException e = await Assert.ThrowsAsync<SpreadException>(async () => await GroupConnection.ConnectAsync($"{port}@127.0.0.1", "x", true, _hangGuard));

        Assert.Equal(SpreadError.CouldNotConnect, e.Error);
    }

    [Theory]
    [InlineData("x")]
    [InlineData("@host")]
    [InlineData("4803@")]
    [InlineData("70000@localhost")]
    [InlineData("-1")]
    public async Task Malformed_spread_names_are_illegal_spread(string spreadName)
    {
        SpreadException e = await Assert.ThrowsAsync<SpreadException>(async () => await GroupConnection.ConnectAsync(spreadName, "x", true, _hangGuard));

        Assert.Equal(SpreadError.IllegalSpread, e.Error);
    }

    [Fact]
    public async Task A_bare_port_connects_to_the_unix_socket_in_tmp()
    {
        // A number taken from an ephemeral TCP port that stays bound, so concurrent tests cannot draw it too.
        using var reservation = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        reservation.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)reservation.LocalEndPoint!).Port;

        string path = $"/tmp/{port}";
        File.Delete(path);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        try
        {
            Task<GroupConnection> connecting = GroupConnection.ConnectAsync(port.ToString(System.Globalization.CultureInfo.InvariantCulture), "unix", false, _hangGuard).AsTask();
            using Socket server = await listener.AcceptAsync(_hangGuard);
            byte[] request = new byte[5 + 4];
            await ReceiveExactlyAsync(server, request);
            Assert.Equal(new ConnectRequest(SpreadLimits.ProtocolVersion, 0, "unix").Encode(), request);
            await server.SendAsync(AuthExchange.EncodeMethodList([AuthExchange.NullMethod]));
            await ReceiveExactlyAsync(server, new byte[SpreadLimits.AuthChoiceSize]);
            await server.SendAsync(AcceptReply.Encode(SpreadLimits.ProtocolVersion, SpreadLimits.ProtocolVersion, "#unix#here"));

            await using GroupConnection connection = await connecting;
            Assert.Equal("#unix#here", connection.PrivateGroup);
            Assert.Equal(path, connection.SpreadName);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The recording with its client chunks replaced, in order, by what our client sends as "x".</summary>
    private static TranscriptStream WithOurClientBytes(TranscriptStream recorded)
    {
        var ours = new Queue<byte[]>([new ConnectRequest(SpreadLimits.ProtocolVersion, 1, "x").Encode(), AuthExchange.EncodeChoice([AuthExchange.NullMethod])]);
        return new TranscriptStream
        {
            Label = recorded.Label,
            ConnectionIndex = 0,
            Chunks = [.. recorded.Chunks.Select(c => c.ToDaemon ? c with { Bytes = ours.Dequeue() } : c)],
            DaemonEofMs = recorded.DaemonEofMs,
        };
    }

    private async Task ReceiveExactlyAsync(Socket socket, byte[] buffer)
    {
        int at = 0;
        while (at < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(at), SocketFlags.None, _hangGuard);
            Assert.NotEqual(0, n);
            at += n;
        }
    }
}
