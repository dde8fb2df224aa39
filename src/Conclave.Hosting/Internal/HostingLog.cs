using Microsoft.Extensions.Logging;

namespace Conclave.Hosting.Internal;

/// <summary>The hosting layer's log catalogue (EventIds 7000–7099): connection changes are Information, failed attempts Debug.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 7000, Level = LogLevel.Information, Message = "Connected to {Daemon} as {PrivateGroup}; joined {GroupCount} groups (reconnection: {Reconnection})")]
    public static partial void Connected(ILogger logger, string daemon, string privateGroup, int groupCount, bool reconnection);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Lost the session {PrivateGroup} with {Daemon}: {Reason}; reconnecting")]
    public static partial void Lost(ILogger logger, string privateGroup, string daemon, string reason);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Debug, Message = "Connecting to {Daemon} failed (attempt {Attempt}): {Reason}; next attempt in {Delay}")]
    public static partial void AttemptFailed(ILogger logger, string daemon, int attempt, string reason, TimeSpan delay);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Error, Message = "A Conclave client event handler threw")]
    public static partial void HandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 7010, Level = LogLevel.Information, Message = "Hosted daemon {Name} started")]
    public static partial void DaemonStarted(ILogger logger, string name);
}
