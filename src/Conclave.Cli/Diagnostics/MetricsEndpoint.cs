using Conclave.Daemon.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Conclave.Cli.Diagnostics;

/// <summary>
/// `conclave daemon --metrics URL`: serves the daemon's meter as Prometheus text at URL, through
/// OpenTelemetry's stand-alone HttpListener exporter.
/// </summary>
internal static class MetricsEndpoint
{
    /// <summary>Parses an <c>http://host:port/path</c> scrape URL; throws <see cref="ArgumentException"/> for anything else.</summary>
    public static Uri Parse(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath.Length < 2 || uri.Query.Length > 0)
        {
            throw new ArgumentException($"--metrics '{text}' must be an http URL with a path, e.g. http://127.0.0.1:9464/metrics");
        }

        return uri;
    }

    /// <summary>Starts listening; dispose the provider to stop.</summary>
    /// <exception cref="InvalidOperationException">The address cannot be listened on (inner <see cref="System.Net.HttpListenerException"/>).</exception>
    public static MeterProvider Start(Uri scrapeUrl) =>
        Sdk.CreateMeterProviderBuilder()
            .AddMeter(DaemonMetricNames.Meter)
            .AddPrometheusHttpListener(o =>
            {
                o.Host = scrapeUrl.Host;
                o.Port = scrapeUrl.Port;
                o.ScrapeEndpointPath = scrapeUrl.AbsolutePath;
                o.ScrapeResponseCacheDurationMilliseconds = 0; // Every scrape reads the counters afresh.
            })
            .Build();
}
