using System.Text;
using System.Threading.Channels;
using Conclave.Client;
using Conclave.Daemon;
using Conclave.Protocol.Spread;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Conclave.Hosting.Tests;

public sealed class ClientHostingTests
{
    [Fact]
    public async Task Client_reconnects_and_rejoins_its_groups_after_a_real_daemon_restart()
    {
        SpreadDaemon daemon = TestHosts.StartDaemon();
        int port = daemon.TcpEndpoints[0].Port;
        HostApplicationBuilder builder = TestHosts.Builder(new Dictionary<string, string?>
        {
            ["Conclave:Client:Daemon"] = TestHosts.SpreadName(daemon),
            ["Conclave:Client:PrivateName"] = "app",
            ["Conclave:Client:Groups:0"] = "chat",
            ["Conclave:Client:ReconnectDelay"] = "00:00:00.050",
            ["Conclave:Client:MaxReconnectDelay"] = "00:00:00.500",
        });
        builder.Services.AddConclaveClient();
        using IHost host = builder.Build();
        var client = host.Services.GetRequiredService<ConclaveClient>();
        var changes = Channel.CreateUnbounded<EventArgs>();
        client.Connected += (_, e) => changes.Writer.TryWrite(e);
        client.Disconnected += (_, e) => changes.Writer.TryWrite(e);

        await host.StartAsync();
        try
        {
            var first = Assert.IsType<ConclaveConnectedEventArgs>(await changes.Reader.ReadAsync().AsTask().WithPatience());
            Assert.False(first.IsReconnection);
            Assert.Equal("#app#localhost", first.PrivateGroup);
            Assert.Equal(["chat"], first.Groups);
            await TestHosts.ReceiveUntilAsync<MembershipMessage>(client.ReceiveAsync, m => m.Group == "chat" && m.Members.Contains("#app#localhost"));

            // The daemon goes away: every session it had is gone with it.
            await daemon.DisposeAsync();
            var lost = Assert.IsType<ConclaveDisconnectedEventArgs>(await changes.Reader.ReadAsync().AsTask().WithPatience());
            Assert.Equal("#app#localhost", lost.PrivateGroup);

            // A new daemon on the same port: the client finds it and rejoins "chat" without being asked.
            daemon = TestHosts.StartDaemon(port);
            var again = Assert.IsType<ConclaveConnectedEventArgs>(await changes.Reader.ReadAsync().AsTask().WithPatience());
            Assert.True(again.IsReconnection);
            Assert.Equal(["chat"], again.Groups);
            await TestHosts.ReceiveUntilAsync<MembershipMessage>(client.ReceiveAsync, m => m.Group == "chat" && m.Members.Contains("#app#localhost"));

            // Only a member of "chat" receives what a peer multicasts there, and the client's sends reach the peer.
            await using GroupConnection peer = await GroupConnection.ConnectAsync(TestHosts.SpreadName(daemon), "peer", groupMembership: false);
            await peer.JoinAsync("chat");
            await peer.MulticastAsync(ServiceType.Agreed, "chat", 1, "after restart"u8.ToArray());
            DataMessage got = await TestHosts.ReceiveUntilAsync<DataMessage>(client.ReceiveAsync, m => m.Sender == "#peer#localhost");
            Assert.Equal("after restart", Encoding.UTF8.GetString(got.Body.Span));

            await client.MulticastAsync(ServiceType.Agreed, "chat", 2, "back"u8.ToArray());
            DataMessage reply = await TestHosts.ReceiveUntilAsync<DataMessage>(peer.ReceiveAsync, m => m.Sender == "#app#localhost");
            Assert.Equal("back", Encoding.UTF8.GetString(reply.Body.Span));
        }
        finally
        {
            await host.StopAsync();
            await daemon.DisposeAsync();
        }
    }

    [Fact]
    public async Task Client_keeps_trying_until_a_daemon_appears_and_applies_joins_made_meanwhile()
    {
        // Take an ephemeral port, then free it: nothing listens there until the daemon starts.
        SpreadDaemon placeholder = TestHosts.StartDaemon();
        int port = placeholder.TcpEndpoints[0].Port;
        await placeholder.DisposeAsync();

        await using var client = new ConclaveClient(new ConclaveClientOptions
        {
            Daemon = $"{port}@127.0.0.1",
            PrivateName = "late",
            ReconnectDelay = TimeSpan.FromMilliseconds(20),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
        });
        var connected = new TaskCompletionSource<ConclaveConnectedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Connected += (_, e) => connected.TrySetResult(e);
        await client.StartAsync();
        await client.JoinAsync("later"); // no session yet: remembered for the first one

        SpreadDaemon daemon = TestHosts.StartDaemon(port);
        try
        {
            ConclaveConnectedEventArgs first = await connected.Task.WithPatience();
            Assert.False(first.IsReconnection);
            Assert.Equal(["later"], first.Groups);
            await TestHosts.ReceiveUntilAsync<MembershipMessage>(client.ReceiveAsync, m => m.Group == "later" && m.Members.Contains("#late#localhost"));

            await client.LeaveAsync("later");
            await TestHosts.ReceiveUntilAsync<SelfLeaveMessage>(client.ReceiveAsync, m => true);
            Assert.Empty(client.Groups);
        }
        finally
        {
            await client.StopAsync();
            await daemon.DisposeAsync();
        }
    }

    [Fact]
    public async Task Bad_client_options_stop_the_host_at_start_naming_each_problem()
    {
        HostApplicationBuilder builder = TestHosts.Builder(new Dictionary<string, string?>
        {
            ["Conclave:Client:Daemon"] = "port4803",
            ["Conclave:Client:PrivateName"] = "much-too-long-name",
            ["Conclave:Client:Groups:0"] = "#private",
        });
        builder.Services.AddConclaveClient();
        using IHost host = builder.Build();
        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(error.Failures, f => f.Contains("Daemon 'port4803'", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("PrivateName 'much-too-long-name'", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Group '#private'", StringComparison.Ordinal));
    }

    [Fact]
    public void Good_client_options_bind_from_configuration()
    {
        HostApplicationBuilder builder = TestHosts.Builder(new Dictionary<string, string?>
        {
            ["Conclave:Client:Daemon"] = "4803@127.0.0.1",
            ["Conclave:Client:Groups:0"] = "a",
            ["Conclave:Client:Groups:1"] = "b",
            ["Conclave:Client:ReceiveMemberships"] = "false",
        });
        builder.Services.AddConclaveClient(o => o.PrivateName = "coded");
        using IHost host = builder.Build();
        ConclaveClientOptions options = host.Services.GetRequiredService<IOptions<ConclaveClientOptions>>().Value;
        Assert.Equal("4803@127.0.0.1", options.Daemon);
        Assert.Equal(["a", "b"], options.Groups);
        Assert.False(options.ReceiveMemberships);
        Assert.Equal("coded", options.PrivateName);
    }
}
