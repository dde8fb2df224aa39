using Microsoft.Extensions.Logging;

namespace Conclave.Daemon.Internal;

/// <summary>The daemon's log catalogue. Event ids: 1xx lifecycle, 2xx sessions, 3xx bad input, 4xx the ring (DaemonLog.Ring.cs).</summary>
internal static partial class DaemonLog
{
    [LoggerMessage(100, LogLevel.Information, "Daemon {Name} listening on {Endpoint}")]
    public static partial void Listening(ILogger logger, string name, string endpoint);

    [LoggerMessage(101, LogLevel.Information, "Daemon {Name} stopped")]
    public static partial void Stopped(ILogger logger, string name);

    [LoggerMessage(200, LogLevel.Debug, "Session {PrivateName} connected (membership messages: {Membership})")]
    public static partial void SessionConnected(ILogger logger, string privateName, bool membership);

    [LoggerMessage(201, LogLevel.Debug, "Session {PrivateName} closed")]
    public static partial void SessionClosed(ILogger logger, string privateName);

    [LoggerMessage(202, LogLevel.Warning, "Session {PrivateName} disconnected for not reading ({Queued} messages queued)")]
    public static partial void SlowReader(ILogger logger, string privateName, int queued);

    [LoggerMessage(300, LogLevel.Warning, "Handshake from {Peer} refused: {Reason}")]
    public static partial void HandshakeRejected(ILogger logger, string peer, string reason);

    [LoggerMessage(301, LogLevel.Warning, "Session {PrivateName} closed: malformed frame ({Reason})")]
    public static partial void MalformedFrame(ILogger logger, string privateName, string reason);

    [LoggerMessage(302, LogLevel.Information, "Session {PrivateName}: {Request} of '{Group}' rejected: {Reason}")]
    public static partial void RequestRejected(ILogger logger, string privateName, string request, string group, string reason);

    [LoggerMessage(303, LogLevel.Debug, "Session {PrivateName} ended with a socket error: {Error}")]
    public static partial void SocketError(ILogger logger, string privateName, string error);
}
