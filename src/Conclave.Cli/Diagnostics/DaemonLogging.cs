using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Conclave.Cli.Diagnostics;

/// <summary>How `conclave daemon` prints its log: one line per event, as text or as JSON.</summary>
internal enum LogFormat
{
    /// <summary>Human-readable single lines with a timestamp, level and category.</summary>
    Text,

    /// <summary>One JSON object per line (Microsoft.Extensions.Logging.Console's JSON formatter), UTC timestamps.</summary>
    Json,
}

/// <summary>Builds the daemon's logger factory from --log-level and --log-format.</summary>
internal static class DaemonLogging
{
    public static ILoggerFactory Create(LogLevel level, LogFormat format) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(level);
        if (format == LogFormat.Json)
        {
            builder.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
                o.IncludeScopes = false;
            });
        }
        else
        {
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
                o.ColorBehavior = LoggerColorBehavior.Default;
            });
        }
    });
}
