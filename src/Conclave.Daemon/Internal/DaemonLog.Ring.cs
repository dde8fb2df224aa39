using Microsoft.Extensions.Logging;

namespace Conclave.Daemon.Internal;

// The ring host's section of the daemon's log catalogue. Event ids: 4xx.
internal static partial class DaemonLog
{
    [LoggerMessage(400, LogLevel.Information, "Daemon {Name} joins the ring as node {Node} on udp {Endpoint} with {Peers} peers, links {Sealing}")]
    public static partial void RingStarting(ILogger logger, string name, uint node, string endpoint, int peers, string sealing);

    [LoggerMessage(405, LogLevel.Information, "Ring broadcasts to multicast group {Group} on {Interface}, reaching {Peers} peers of the segment (loopback {Loopback})")]
    public static partial void RingMulticast(ILogger logger, string group, string @interface, int peers, bool loopback);

    [LoggerMessage(401, LogLevel.Information, "Ring timers: token {Token} ms, token retransmit {Retransmit} ms, join {Join} ms, consensus {Consensus} ms, merge {Merge} ms, idle token hold {HoldUs} µs (0: never) after {IdleVisits} idle visits; window {Window}, max messages {MaxMessages}, fragment {Fragment} B")]
    public static partial void RingTimers(ILogger logger, long token, long retransmit, long join, long consensus, long merge, long holdUs, int idleVisits, int window, int maxMessages, int fragment);

    [LoggerMessage(406, LogLevel.Information, "Ring link segments: {Segment} B ({Send}); split frames received by {Receive}")]
    public static partial void RingSegmentation(ILogger logger, int segment, string send, string receive);

    [LoggerMessage(407, LogLevel.Warning, "Ring link segmentation turned off, packets leave whole from now on: {Reason}")]
    public static partial void SegmentationOff(ILogger logger, string reason);

    [LoggerMessage(402, LogLevel.Information, "Daemon configuration {Kind} {Id}: {Members}")]
    public static partial void Configuration(ILogger logger, string kind, string id, string members);

    [LoggerMessage(403, LogLevel.Warning, "Sending to daemon {Endpoint} failed: {Error}")]
    public static partial void SendFailed(ILogger logger, string endpoint, string error);

    [LoggerMessage(404, LogLevel.Trace, "Ring packet {Direction} node {Node}: {Bytes} B, type {Type}, state {State}")]
    public static partial void Packet(ILogger logger, string direction, uint node, int bytes, int type, string state);
}
