using System.Diagnostics.Metrics;
using Conclave.Client;
using Conclave.Daemon.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;

namespace Conclave.Hosting.Tests;

public sealed class DaemonHostingMetricsTests
{
    [Fact]
    public async Task The_hosted_daemon_measures_through_the_hosts_meter_factory()
    {
        HostApplicationBuilder builder = TestHosts.Builder(new Dictionary<string, string?>
        {
            ["Conclave:Daemon:Port"] = "0",
            ["Conclave:Daemon:Listen:0"] = "127.0.0.1",
            ["Conclave:Daemon:UnixSocket"] = "false",
            ["Conclave:Daemon:HandshakeTimeout"] = "00:01:00",
        });
        builder.Services.AddMetrics();
        builder.Services.AddConclaveDaemon();
        using IHost host = builder.Build();
        var meters = host.Services.GetRequiredService<IMeterFactory>();

        // A collector bound to the host's factory sees only meters made by that factory: the daemon's must be one.
        using var groups = new MetricCollector<long>(meters, DaemonMetricNames.Meter, DaemonMetricNames.Groups);
        await host.StartAsync();
        string spreadName = host.Services.GetRequiredService<ConclaveDaemonService>().SpreadName;
        await using (GroupConnection client = await GroupConnection.ConnectAsync(spreadName, "m1", groupMembership: true))
        {
            await client.JoinAsync("measured");
            await TestHosts.ReceiveUntilAsync<MembershipMessage>(client.ReceiveAsync, m => m.Group == "measured");
            groups.RecordObservableInstruments();
            Assert.Equal(1, groups.LastMeasurement?.Value);
        }

        await host.StopAsync();
    }
}
