using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Conclave.Cli.Commands.Groups;

/// <summary>
/// When a bench member's secure layer got each Flush view (and started its key agreement): read from the secure
/// layer's "key agreement started" log event, so the bench can split a secure join into the Flush part and the key
/// agreement part without reaching into the layer.
/// </summary>
internal sealed class KeyingLog : ILoggerFactory, ILogger
{
    /// <summary>The secure layer's event id for "key agreement started for a view of {Members} members" (ClientLog).</summary>
    private const int KeyAgreementStartedEvent = 1000;

    private readonly object _lock = new();
    private readonly List<(long At, int Members)> _started = [];

    /// <summary>The first time at or after <paramref name="since"/> that a view of <paramref name="members"/> members arrived, if any.</summary>
    public long? FirstSince(long since, int members)
    {
        lock (_lock)
        {
            foreach ((long at, int count) in _started)
            {
                if (at >= since && count == members)
                {
                    return at;
                }
            }

            return null;
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
        // Records one event for the bench; no providers.
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel == LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id != KeyAgreementStartedEvent || state is not IReadOnlyList<KeyValuePair<string, object?>> fields)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        foreach (KeyValuePair<string, object?> field in fields)
        {
            if (field is { Key: "Members", Value: int members })
            {
                lock (_lock)
                {
                    _started.Add((now, members));
                }
            }
        }
    }

    public void Dispose()
    {
        // Nothing held.
    }
}
