using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using N = Conclave.Client.Diagnostics.ClientMetricNames;

namespace Conclave.Client.Diagnostics;

/// <summary>One secure group's metrics (on the <c>Conclave.Client</c> meter) and log events.</summary>
internal sealed class SecureGroupTelemetry : ISecureGroupObserver
{
    /// <summary>The meter used when the application injects no IMeterFactory: one per process, never disposed.</summary>
    private static readonly Meter SharedMeter = new(N.Meter);

    private readonly string _group;
    private readonly KeyValuePair<string, object?> _protocol;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Counter<long> _rekeys;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _rejected;
    private long _startedAt = -1;

    public SecureGroupTelemetry(string group, string protocol, IMeterFactory? meters, ILogger logger, TimeProvider? time = null)
    {
        _group = group;
        _protocol = new(N.ProtocolTag, protocol);
        _logger = logger;
        _time = time ?? TimeProvider.System;
        // A factory hands out one meter per name, and a meter one instrument per name: groups share them.
        Meter meter = meters?.Create(N.Meter) ?? SharedMeter;
        _rekeys = meter.CreateCounter<long>(N.Rekeys, "{rekey}", "Group keys installed, by key agreement protocol.");
        _duration = meter.CreateHistogram<double>(N.KeyAgreementDuration, "s", "Time from a view's arrival to its key being installed, by key agreement protocol.");
        _rejected = meter.CreateCounter<long>(N.MessagesRejected, "{message}", "Messages a secure group refused, by cause: replay, other_epoch, forged, key_agreement.");
    }

    public void KeyAgreementStarted(int members)
    {
        _startedAt = _time.GetTimestamp();
        ClientLog.KeyAgreementStarted(_logger, _group, members);
    }

    public void KeyAgreementSent(int members) => ClientLog.KeyAgreementSent(_logger, _group, members);

    /// <summary>The first key agreement message of a view reached this member (times the run's phases).</summary>
    public void FirstKeyAgreementMessage(int members) => ClientLog.FirstKeyAgreementMessage(_logger, _group, members);

    public void KeyEstablished(string epoch, int members)
    {
        _rekeys.Add(1, _protocol);
        double milliseconds = double.NaN;
        if (_startedAt >= 0)
        {
            // A refresh within a view has no start: it counts as a rekey but has no agreement duration.
            TimeSpan elapsed = _time.GetElapsedTime(_startedAt);
            _duration.Record(elapsed.TotalSeconds, _protocol);
            milliseconds = elapsed.TotalMilliseconds;
            _startedAt = -1;
        }

        ClientLog.KeyEstablished(_logger, _group, epoch, members, milliseconds);
    }

    public void Rejected(SecureRejection cause, string sender)
    {
        string name = cause switch
        {
            SecureRejection.Replay => "replay",
            SecureRejection.OtherEpoch => "other_epoch",
            SecureRejection.Forged => "forged",
            _ => "key_agreement",
        };
        _rejected.Add(1, new KeyValuePair<string, object?>(N.RejectCauseTag, name));
        if (cause == SecureRejection.OtherEpoch)
        {
            ClientLog.OtherEpochDropped(_logger, _group, sender);
        }
        else
        {
            ClientLog.MessageRefused(_logger, _group, sender, name);
        }
    }
}
