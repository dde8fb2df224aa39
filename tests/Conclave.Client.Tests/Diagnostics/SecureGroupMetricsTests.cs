using System.Diagnostics.Metrics;
using Conclave.Client.Diagnostics;
using Conclave.Client.Flush;
using Conclave.Client.Secure;
using Conclave.Client.Secure.Internal;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Conclave.Protocol.Spread;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using N = Conclave.Client.Diagnostics.ClientMetricNames;

namespace Conclave.Client.Tests.Diagnostics;

/// <summary>The secure layer's rekeys, key agreement durations and refusals, on the Conclave.Client meter and in the log.</summary>
public sealed class SecureGroupMetricsTests : IDisposable
{
    private const string Group = "sg";
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly Dictionary<string, MemberIdentity> _identities = [];
    private readonly MemberDirectory _directory = new();
    private readonly Dictionary<string, SecureGroupCore> _cores = [];
    private readonly ManualClock _clock = new();
    private readonly FakeLogger _log = new();

    public SecureGroupMetricsTests()
    {
        foreach (string name in new[] { "#a#d", "#b#d", "#c#d" })
        {
            var identity = MemberIdentity.Generate();
            _identities[name] = identity;
            _directory.Add(name, identity.PublicKey);
        }
    }

    private IMeterFactory Factory => _services.GetRequiredService<IMeterFactory>();

    [Fact]
    public void Each_installed_key_counts_a_rekey_with_the_agreement_duration_by_protocol()
    {
        using var rekeys = new MetricCollector<long>(Factory, N.Meter, N.Rekeys);
        using var durations = new MetricCollector<double>(Factory, N.Meter, N.KeyAgreementDuration);

        InstallView(KeyAgreementProtocol.Tgdh, agreementTime: TimeSpan.FromMilliseconds(40), "#a#d", "#b#d");
        InstallView(KeyAgreementProtocol.Tgdh, agreementTime: TimeSpan.FromMilliseconds(25), "#a#d", "#b#d", "#c#d");

        // Two members keyed the first view, three the second; the groups share one instrument.
        Assert.Equal(5, rekeys.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.All(rekeys.GetMeasurementSnapshot(), m => Assert.Equal("tgdh", m.Tags[N.ProtocolTag]));
        Assert.Equal([0.040, 0.040, 0.025, 0.025, 0.025], durations.GetMeasurementSnapshot().Select(m => Math.Round(m.Value, 6)));
        Assert.Equal(5, _log.Collector.GetSnapshot().Count(r => r.Id.Id == 1001 && r.Level == LogLevel.Information));
    }

    [Fact]
    public void Refused_messages_are_counted_by_cause_and_logged_by_meaning()
    {
        using var rejected = new MetricCollector<long>(Factory, N.Meter, N.MessagesRejected);
        InstallView(KeyAgreementProtocol.Gdh, TimeSpan.Zero, "#a#d", "#b#d");
        byte[] one = _cores["#a#d"].Seal(1, "one"u8)!;
        byte[] two = _cores["#a#d"].Seal(1, "two"u8)!;
        Deliver("#a#d", two, "#b#d");
        Deliver("#a#d", one, "#b#d"); // replay
        byte[] tampered = (byte[])two.Clone();
        tampered[^1] ^= 1;
        Deliver("#a#d", tampered, "#b#d"); // a used sequence number: refused as a replay before decryption
        byte[] three = _cores["#a#d"].Seal(1, "three"u8)!;
        tampered = (byte[])three.Clone();
        tampered[^1] ^= 1;
        Deliver("#a#d", tampered, "#b#d"); // forged
        InstallView(KeyAgreementProtocol.Gdh, TimeSpan.Zero, "#a#d", "#b#d", "#c#d");
        Deliver("#a#d", three, "#b#d"); // other epoch
        _cores["#b#d"].Handle(new FlushDataMessage(Group, "#c#d", ServiceType.Agreed, SecureGroupCore.KeyAgreementType, null, false, new byte[] { 1, 2, 3 }));

        Dictionary<string, long> byCause = rejected.GetMeasurementSnapshot()
            .GroupBy(m => (string)m.Tags[N.RejectCauseTag]!).ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        SecureGroupCounters counters = _cores["#b#d"].Counters;
        Assert.Equal(2, byCause["replay"]);
        Assert.Equal(1, byCause["forged"]);
        Assert.Equal(1, byCause["other_epoch"]);
        Assert.Equal(1, byCause["key_agreement"]);
        Assert.Equal((counters.Replays, counters.Forged, counters.OtherEpoch, counters.KeyAgreementRejected), (2L, 1L, 1L, 1L));
        IReadOnlyList<FakeLogRecord> records = _log.Collector.GetSnapshot();
        Assert.Contains(records, r => r.Id.Id == 1003 && r.Level == LogLevel.Debug); // other epoch: normal around a view change
        Assert.Equal(byCause["replay"] + byCause["forged"] + byCause["key_agreement"], records.Count(r => r.Id.Id == 1002 && r.Level == LogLevel.Warning));
    }

    public void Dispose()
    {
        foreach (SecureGroupCore core in _cores.Values)
        {
            core.Dispose();
        }

        foreach (MemberIdentity identity in _identities.Values)
        {
            identity.Dispose();
        }

        _services.Dispose();
    }

    private int _viewIndex;

    /// <summary>Installs a Flush view and runs its key agreement to the end, the clock advancing by <paramref name="agreementTime"/> meanwhile.</summary>
    private void InstallView(KeyAgreementProtocol protocol, TimeSpan agreementTime, params string[] members)
    {
        var view = new FlushView(Group, members, new GroupId(1, 1, ++_viewIndex), MembershipCause.Network, members, 0);
        var bus = new Queue<byte[]>();
        foreach (string m in members)
        {
            if (!_cores.TryGetValue(m, out SecureGroupCore? core))
            {
                var options = new KeyAgreementOptions { Group = Group, Self = m, Identity = _identities[m], Directory = _directory };
                core = new SecureGroupCore(KeyAgreementFactory.Create(protocol, options), Group, m)
                {
                    Observer = new SecureGroupTelemetry(Group, protocol.ToString().ToLowerInvariant(), Factory, _log, _clock),
                };
                _cores[m] = core;
            }

            core.Handle(view);
            Move(core.Sends, bus);
        }

        _clock.Advance(agreementTime);
        while (bus.TryDequeue(out byte[]? wire))
        {
            foreach (string m in members)
            {
                _cores[m].Handle(new FlushDataMessage(Group, "?", ServiceType.Agreed, SecureGroupCore.KeyAgreementType, null, false, wire));
                Move(_cores[m].Sends, bus);
            }
        }

        Assert.All(members, m => Assert.True(_cores[m].HasKey));
        foreach (SecureGroupCore core in _cores.Values)
        {
            core.Deliveries.Clear();
        }
    }

    private void Deliver(string sender, byte[] sealedMessage, string receiver) =>
        _cores[receiver].Handle(new FlushDataMessage(Group, sender, ServiceType.Agreed, SecureGroupCore.SealedType, null, false, sealedMessage));

    /// <summary>Unicasts too go to everyone here: the module itself refuses those not addressed to it.</summary>
    private static void Move(Queue<KeyAgreementSend> from, Queue<byte[]> to)
    {
        while (from.TryDequeue(out KeyAgreementSend x))
        {
            to.Enqueue(x.Wire);
        }
    }

    /// <summary>A clock that moves only when told.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
