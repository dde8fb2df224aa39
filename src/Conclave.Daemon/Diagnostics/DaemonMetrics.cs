using System.Diagnostics.Metrics;
using N = Conclave.Daemon.Diagnostics.DaemonMetricNames;

namespace Conclave.Daemon.Diagnostics;

/// <summary>
/// The daemon's instruments on the <c>Conclave.Daemon</c> meter. Almost all are observable: they read the
/// counters the daemon keeps anyway when a collector asks, so the message path pays nothing. Only events
/// that have no counter (configuration changes, membership messages) are counted as they happen.
/// </summary>
internal sealed class DaemonMetrics : IDisposable
{
    private static readonly KeyValuePair<string, object?> Regular = new(N.ConfigurationKindTag, "regular");
    private static readonly KeyValuePair<string, object?> Transitional = new(N.ConfigurationKindTag, "transitional");

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly IDaemonMetricsSource _source;
    private readonly Counter<long> _configurationChanges;
    private readonly Counter<long> _membershipMessages;
    private volatile bool _disposed;

    public DaemonMetrics(DaemonOptions options, IDaemonMetricsSource source)
    {
        _source = source;
        var meterOptions = new MeterOptions(N.Meter) { Tags = [new(N.DaemonTag, options.Name)] };
        // With DI the factory owns (and shares) the meter; without it the daemon owns a meter of its own.
        _ownsMeter = options.MeterFactory is null;
        _meter = options.MeterFactory?.Create(meterOptions) ?? new Meter(meterOptions);

        _configurationChanges = _meter.CreateCounter<long>(N.ConfigurationChanges, "{configuration}", "Daemon configurations installed, by kind (regular or transitional).");
        _membershipMessages = _meter.CreateCounter<long>(N.MembershipMessages, "{message}", "Membership messages queued to local clients.");
        CreateSessionInstruments();
        CreateGroupInstruments();
        if (options.Ring is { } ring)
        {
            CreateRingInstruments(ring.Timers.WindowSize);
        }
    }

    /// <summary>A configuration was installed (regular or transitional).</summary>
    public void ConfigurationInstalled(bool regular) => _configurationChanges.Add(1, regular ? Regular : Transitional);

    /// <summary>A membership message was queued to a local client.</summary>
    public void MembershipMessageQueued() => _membershipMessages.Add(1);

    public void Dispose()
    {
        // A factory's meter outlives the daemon: its callbacks must then report nothing.
        _disposed = true;
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private void CreateSessionInstruments()
    {
        Internal.DaemonCounters c = _source.Counters;
        Gauge(N.Sessions, "{session}", "Client sessions connected (handshake complete).", () => _source.EstablishedSessions);
        Count(N.SessionsAccepted, "{session}", "Client connections accepted.", () => Interlocked.Read(ref c.SessionsAccepted));
        Count(N.HandshakesRejected, "{handshake}", "Handshakes refused (version, name, authentication, quota) or abandoned.", () => Interlocked.Read(ref c.HandshakesRejected));
        Count(N.RequestsRejected, "{request}", "Joins and leaves refused with a reject message.", () => Interlocked.Read(ref c.Rejects));
        _meter.CreateObservableCounter<long>(N.Disconnects, () => Observe(
        [
            new Measurement<long>(Interlocked.Read(ref c.SlowReadersDisconnected), new KeyValuePair<string, object?>(N.DisconnectReasonTag, "slow_reader")),
            new Measurement<long>(Interlocked.Read(ref c.MalformedFrames), new KeyValuePair<string, object?>(N.DisconnectReasonTag, "malformed_frame")),
        ]), "{session}", "Sessions the daemon closed, by reason: slow_reader (stopped reading) or malformed_frame (broke the protocol).");
        _meter.CreateObservableCounter<long>(N.Frames, () => Observe(
        [
            new Measurement<long>(Interlocked.Read(ref c.FramesIn), new KeyValuePair<string, object?>(N.DirectionTag, "in")),
            new Measurement<long>(Interlocked.Read(ref c.FramesOut), new KeyValuePair<string, object?>(N.DirectionTag, "out")),
        ]), "{frame}", "Frames received from (in) and queued to (out) clients.");
        Gauge(N.QueuedMessages, "{message}", "Messages queued to clients and not yet written.", () => _source.QueuedMessages().Total);
        Gauge(N.DeepestQueue, "{message}", "Messages queued to the session furthest behind (disconnected past MaxSessionMessages).", () => _source.QueuedMessages().Deepest);
    }

    private void CreateGroupInstruments()
    {
        Gauge(N.Groups, "{group}", "Groups with at least one member.", () => _source.GroupTotals().Groups);
        Gauge(N.GroupMembers, "{member}", "Memberships over all groups (a client in two groups counts twice).", () => _source.GroupTotals().Members);
        _meter.CreateObservableCounter(N.GroupMessagesDropped, GroupDrops, "{message}",
            "Ordered messages the group layer did not deliver, by cause: during_exchange (client requests during a state exchange), table (stale state reports, unknown daemons), gone_session (data for a local member already disconnected).");
    }

    private void CreateRingInstruments(int window)
    {
        Count(N.TokenRotations, "{token}", "Tokens received by this daemon: one per rotation of the ring.", () => _source.RingFlow?.Tokens);
        Gauge(N.FlowControlWindow, "{message}", "The flow-control window: most messages multicast on the ring per rotation.", () => window);
        Gauge(N.FlowControlCount, "{message}", "Messages multicast during the last token's rotation (its flow-control count).", () => _source.RingFlow?.LastFlowControlCount);
        Gauge(N.FlowControlAllowed, "{message}", "Messages this daemon could send on the last token it held.", () => _source.RingFlow?.LastAllowed);
        Count(N.TokenRetransmissions, "{token}", "Tokens re-sent after the token retransmit timeout.", () => _source.RingStatus()?.TokenRetransmits);
        Count(N.Retransmissions, "{message}", "Messages re-multicast to serve retransmission requests.", () => _source.RingStatus()?.Retransmitted);
        Count(N.PacketsSent, "{packet}", "UDP packets sent to other daemons.", () => _source.RingStatus()?.PacketsSent);
        Count(N.PacketsReceived, "{packet}", "UDP packets received from other daemons, before authentication.", () => _source.RingStatus()?.PacketsReceived);
        Count(N.MessagesDelivered, "{message}", "Group messages delivered by the ring.", () => _source.RingStatus()?.MessagesDelivered);
        Count(N.FragmentsDropped, "{fragment}", "Fragments dropped by reassembly (out of sequence, or abandoned at a configuration change).", () => _source.RingStatus()?.FragmentsDropped);
        Gauge(N.RingBacklog, "{message}", "Messages and fragments waiting for the token.", () => _source.RingStatus()?.Backlog);
        Gauge(N.RingMembers, "{daemon}", "Daemons in the installed regular configuration.", () => _source.RingStatus()?.Members.Count);
        _meter.CreateObservableCounter(N.PacketsDropped, DroppedPackets, "{packet}",
            "Packets dropped, by cause: malformed, other_cluster, forged, replayed, unsealed, stranger (link layer) and unparsable (the ring).");
    }

    private IEnumerable<Measurement<long>> DroppedPackets()
    {
        if (_disposed || _source.RingStatus() is not { } s)
        {
            return [];
        }

        return
        [
            Dropped(s.DroppedMalformed, "malformed"),
            Dropped(s.DroppedOtherCluster, "other_cluster"),
            Dropped(s.DroppedForged, "forged"),
            Dropped(s.DroppedReplayed, "replayed"),
            Dropped(s.DroppedUnsealed, "unsealed"),
            Dropped(s.DroppedStrangers, "stranger"),
            Dropped(s.MalformedRingPackets, "unparsable"),
        ];
    }

    private IEnumerable<Measurement<long>> GroupDrops()
    {
        if (_disposed)
        {
            return [];
        }

        (long dropped, long duringExchange) = _source.GroupTableDrops();
        return
        [
            new(duringExchange, new KeyValuePair<string, object?>(N.GroupDropCauseTag, "during_exchange")),
            new(dropped - duringExchange, new KeyValuePair<string, object?>(N.GroupDropCauseTag, "table")),
            new(Interlocked.Read(ref _source.Counters.DataForGoneSessions), new KeyValuePair<string, object?>(N.GroupDropCauseTag, "gone_session")),
        ];
    }

    private static Measurement<long> Dropped(long value, string cause) => new(value, new KeyValuePair<string, object?>(N.DropCauseTag, cause));

    private Measurement<long>[] Observe(Measurement<long>[] measurements) => _disposed ? [] : measurements;

    private void Count(string name, string unit, string description, Func<long?> read) =>
        _meter.CreateObservableCounter<long>(name, () => One(read), unit, description);

    private void Gauge(string name, string unit, string description, Func<long?> read) =>
        _meter.CreateObservableGauge<long>(name, () => One(read), unit, description);

    private Measurement<long>[] One(Func<long?> read) => !_disposed && read() is long value ? [new Measurement<long>(value)] : [];
}
