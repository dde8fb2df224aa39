using System.Diagnostics.Metrics;
using Conclave.Client;
using Conclave.Daemon.Diagnostics;
using Conclave.Protocol.Spread;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using N = Conclave.Daemon.Diagnostics.DaemonMetricNames;

namespace Conclave.Daemon.Tests.Diagnostics;

/// <summary>A lone daemon's session and group instruments, read through an injected IMeterFactory.</summary>
public sealed class DaemonMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private IMeterFactory Factory => _services.GetRequiredService<IMeterFactory>();

    private MetricCollector<long> Collect(string instrument) => new(Factory, N.Meter, instrument);

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task Sessions_groups_members_and_membership_messages_are_measured()
    {
        await using TestDaemon daemon = TestDaemon.Start(o => o with { MeterFactory = Factory });
        using MetricCollector<long> sessions = Collect(N.Sessions);
        using MetricCollector<long> groups = Collect(N.Groups);
        using MetricCollector<long> members = Collect(N.GroupMembers);
        using MetricCollector<long> membership = Collect(N.MembershipMessages);
        using MetricCollector<long> frames = Collect(N.Frames);
        using MetricCollector<long> accepted = Collect(N.SessionsAccepted);
        using MetricCollector<long> configurations = Collect(N.ConfigurationChanges);

        await using GroupConnection alice = await daemon.ConnectAsync("alice");
        await using GroupConnection bob = await daemon.ConnectAsync("bob");
        await alice.JoinAndWaitAsync("g1");
        await alice.JoinAndWaitAsync("g2");
        await bob.JoinAndWaitAsync("g1");
        await alice.NextAsync<MembershipMessage>(); // bob joined g1

        await sessions.WaitForAsync(v => v == 2, "two sessions");
        Assert.Equal(2, groups.Value());
        Assert.Equal(3, members.Value());
        Assert.Equal(2, accepted.Value());
        // alice: g1, g2, bob joining g1; bob: g1.
        Assert.Equal(4, membership.GetMeasurementSnapshot().Sum(m => m.Value));
        Dictionary<string, long> frameCounts = frames.Latest();
        Assert.Equal(3, frameCounts[$"{N.DirectionTag}=in"]);
        Assert.True(frameCounts[$"{N.DirectionTag}=out"] >= 4);
        // A lone daemon's local sequencer installs no daemon configuration.
        Assert.Empty(configurations.GetMeasurementSnapshot());

        await bob.DisposeAsync();
        await sessions.WaitForAsync(v => v == 1, "bob gone");
        await members.WaitForAsync(v => v == 2, "bob's membership gone");
    }

    [Fact]
    public async Task A_malformed_frame_is_counted_as_a_disconnect_by_reason()
    {
        await using TestDaemon daemon = TestDaemon.Start(o => o with { MeterFactory = Factory });
        using MetricCollector<long> disconnects = Collect(N.Disconnects);

        await using (RawClient bad = await RawClient.HandshakeAsync(daemon, "m"))
        {
            await bad.SendAsync(FrameWriter.Build(ServiceType.Agreed | ServiceType.Fifo, "#m#localhost", ["g"], MessageHeader.EncodeHint(0), []));
            await bad.ReadToEndAsync(); // returns once the daemon has closed the session
        }

        Dictionary<string, long> byReason = disconnects.Latest();
        Assert.Equal(1, byReason[$"{N.DisconnectReasonTag}=malformed_frame"]);
        Assert.Equal(0, byReason[$"{N.DisconnectReasonTag}=slow_reader"]);
    }

    [Fact]
    public async Task A_handshake_refused_for_quota_is_counted()
    {
        await using TestDaemon daemon = TestDaemon.Start(o => o with { MeterFactory = Factory, MaxSessions = 1 });
        using MetricCollector<long> rejected = Collect(N.HandshakesRejected);
        await using GroupConnection first = await daemon.ConnectAsync("first");

        await Assert.ThrowsAsync<SpreadException>(async () => await daemon.ConnectAsync("second"));

        Assert.Equal(1, rejected.Value());
    }

    [Fact]
    public async Task A_disposed_daemon_reports_nothing_through_the_factory_meter()
    {
        using MetricCollector<long> sessions = Collect(N.Sessions);
        TestDaemon daemon = TestDaemon.Start(o => o with { MeterFactory = Factory });
        Assert.Equal(0, sessions.Value());

        await daemon.DisposeAsync();

        Assert.Null(sessions.Value());
    }
}
