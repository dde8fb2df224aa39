using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Conclave.Daemon.Tests.Diagnostics;

/// <summary>Reads observable instruments until a condition holds; the condition is the synchronisation.</summary>
internal static class MetricWait
{
    /// <summary>The latest value per tag set (e.g. "cause=forged") after collecting observable instruments.</summary>
    public static Dictionary<string, long> Latest(this MetricCollector<long> collector)
    {
        collector.Clear();
        collector.RecordObservableInstruments();
        var latest = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (CollectedMeasurement<long> m in collector.GetMeasurementSnapshot())
        {
            latest[string.Join(",", m.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"))] = m.Value;
        }

        return latest;
    }

    /// <summary>The single untagged value, or null when the instrument reported nothing.</summary>
    public static long? Value(this MetricCollector<long> collector) => collector.Latest().TryGetValue("", out long value) ? value : null;

    public static async Task<long> WaitForAsync(this MetricCollector<long> collector, Func<long, bool> done, string what)
    {
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        while (true)
        {
            if (collector.Value() is long value && done(value))
            {
                return value;
            }

            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"waiting for {collector.Instrument?.Name} {what}; last {collector.Value()}");
            }

            await Task.Delay(20, CancellationToken.None); // A polling interval; the condition is the synchronisation.
        }
    }
}
