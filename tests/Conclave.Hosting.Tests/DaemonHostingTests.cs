using Conclave.Client;
using Conclave.Protocol.Spread;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Conclave.Hosting.Tests;

public sealed class DaemonHostingTests
{
    private static Dictionary<string, string?> EphemeralDaemon() => new()
    {
        ["Conclave:Daemon:Port"] = "0",
        ["Conclave:Daemon:Listen:0"] = "127.0.0.1",
        ["Conclave:Daemon:UnixSocket"] = "false",
        ["Conclave:Daemon:HandshakeTimeout"] = "00:01:00",
    };

    [Fact]
    public async Task Hosted_daemon_binds_from_configuration_serves_clients_and_stops_with_the_host()
    {
        HostApplicationBuilder builder = TestHosts.Builder(EphemeralDaemon());
        builder.Services.AddConclaveDaemon();
        using IHost host = builder.Build();
        await host.StartAsync();
        var service = host.Services.GetRequiredService<ConclaveDaemonService>();
        Assert.Equal("localhost", service.Daemon.Options.Name);
        Assert.NotEqual(0, service.Daemon.TcpEndpoints[0].Port);
        Assert.Equal(TimeSpan.FromMinutes(1), service.Daemon.Options.HandshakeTimeout);

        string spreadName = service.SpreadName;
        await using (GroupConnection client = await GroupConnection.ConnectAsync(spreadName, "c1", groupMembership: true))
        {
            await client.JoinAsync("hosted");
            await client.MulticastAsync(ServiceType.Agreed, "hosted", 7, "hi"u8.ToArray());
            DataMessage echo = await TestHosts.ReceiveUntilAsync<DataMessage>(client.ReceiveAsync, _ => true);
            Assert.Equal("hi", System.Text.Encoding.ASCII.GetString(echo.Body.Span));
        }

        await host.StopAsync();
        SpreadException refused = await Assert.ThrowsAsync<SpreadException>(async () => await GroupConnection.ConnectAsync(spreadName, "c2", groupMembership: true));
        Assert.Equal(SpreadError.CouldNotConnect, refused.Error);
    }

    [Fact]
    public void Code_configuration_applies_after_the_section()
    {
        HostApplicationBuilder builder = TestHosts.Builder(EphemeralDaemon());
        builder.Services.AddConclaveDaemon(o => o.MaxSessions = 3);
        using IHost host = builder.Build();
        ConclaveDaemonOptions options = host.Services.GetRequiredService<IOptions<ConclaveDaemonOptions>>().Value;
        Assert.Equal(3, options.MaxSessions);
        Assert.Equal(0, options.Port);
        Assert.Equal(["127.0.0.1"], options.Listen);
    }

    [Fact]
    public async Task A_daemon_not_in_its_configuration_stops_the_host_at_start()
    {
        Dictionary<string, string?> settings = EphemeralDaemon();
        settings["Conclave:Daemon:Name"] = "nobody";
        HostApplicationBuilder builder = TestHosts.Builder(settings);
        builder.Services.AddConclaveDaemon();
        using IHost host = builder.Build();
        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("'nobody' is not in the configuration", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ring_without_a_cluster_key_stops_the_host_at_start()
    {
        string dir = Directory.CreateTempSubdirectory("conclave-hosting-").FullName;
        try
        {
            string conf = Path.Combine(dir, "spread.conf");
            await File.WriteAllTextAsync(conf, "Spread_Segment 127.0.0.255:4803 {\n  d1 127.0.0.1\n  d2 127.0.0.2\n}\n");
            Dictionary<string, string?> settings = EphemeralDaemon();
            settings["Conclave:Daemon:ConfigFile"] = conf;
            settings["Conclave:Daemon:Name"] = "d1";
            HostApplicationBuilder builder = TestHosts.Builder(settings);
            builder.Services.AddConclaveDaemon();
            using IHost host = builder.Build();
            OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
            Assert.Contains("ClusterKeyFile", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_missing_spread_conf_stops_the_host_at_start()
    {
        Dictionary<string, string?> settings = EphemeralDaemon();
        settings["Conclave:Daemon:ConfigFile"] = "/nonexistent/spread.conf";
        HostApplicationBuilder builder = TestHosts.Builder(settings);
        builder.Services.AddConclaveDaemon();
        using IHost host = builder.Build();
        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("/nonexistent/spread.conf", error.Message, StringComparison.Ordinal);
    }
}
