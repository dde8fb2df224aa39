using System.Diagnostics.Metrics;
using Conclave.Client.Diagnostics;
using Conclave.Client.Secure;
using Conclave.Client.Tests.EndToEnd;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Conclave.Client.Tests.Diagnostics;

/// <summary>SecureGroup.JoinAsync wires the options' meter factory and logger factory into the secure layer.</summary>
public sealed class SecureGroupTelemetryEndToEndTests
{
    [Fact]
    public async Task Two_members_keying_a_view_report_two_rekeys_with_durations_and_log_the_key()
    {
        using ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IMeterFactory meters = services.GetRequiredService<IMeterFactory>();
        using var rekeys = new MetricCollector<long>(meters, ClientMetricNames.Meter, ClientMetricNames.Rekeys);
        using var durations = new MetricCollector<double>(meters, ClientMetricNames.Meter, ClientMetricNames.KeyAgreementDuration);
        var logs = new FakeLogCollector();
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new FakeLoggerProvider(logs)));
        using var a = MemberIdentity.Generate();
        using var b = MemberIdentity.Generate();
        var directory = new MemberDirectory();
        directory.Add("#a#localhost", a.PublicKey);
        directory.Add("#b#localhost", b.PublicKey);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await using InProcessDaemon daemon = InProcessDaemon.Start();

        SecureGroupOptions Options(MemberIdentity identity) => new()
        {
            Protocol = KeyAgreementProtocol.Ckd,
            Identity = identity,
            Directory = directory,
            MeterFactory = meters,
            LoggerFactory = loggers,
        };

        await using SecureGroup alice = await SecureGroup.JoinAsync(daemon.TcpSpreadName, "a", "sg", Options(a), timeout.Token);
        Assert.IsType<SecureView>(await alice.ReceiveAsync(timeout.Token)); // alone
        await using SecureGroup bob = await SecureGroup.JoinAsync(daemon.TcpSpreadName, "b", "sg", Options(b), timeout.Token);
        Task<SecureEvent> aliceNext = alice.ReceiveAsync(timeout.Token).AsTask();
        SecureView bobView = Assert.IsType<SecureView>(await bob.ReceiveAsync(timeout.Token));
        SecureView aliceView = Assert.IsType<SecureView>(await aliceNext);
        Assert.Equal(aliceView.KeyFingerprint, bobView.KeyFingerprint);

        Assert.Equal(3, rekeys.GetMeasurementSnapshot().Sum(m => m.Value)); // alice alone, then both
        Assert.All(rekeys.GetMeasurementSnapshot(), m => Assert.Equal("ckd", m.Tags[ClientMetricNames.ProtocolTag]));
        Assert.Equal(3, durations.GetMeasurementSnapshot().Count);
        Assert.All(durations.GetMeasurementSnapshot(), m => Assert.InRange(m.Value, 0, 60));
        Assert.Equal(3, logs.GetSnapshot().Count(r => r.Id.Id == 1001 && r.Category == "Conclave.Client.Secure"));
    }
}
