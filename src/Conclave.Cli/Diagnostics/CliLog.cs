using Microsoft.Extensions.Logging;

namespace Conclave.Cli.Diagnostics;

/// <summary>The `conclave` tool's log catalogue. Event ids: 20xx.</summary>
internal static partial class CliLog
{
    [LoggerMessage(2000, LogLevel.Information, "Metrics served as Prometheus text at {Url}")]
    public static partial void MetricsServed(ILogger logger, Uri url);
}
