using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Conclave.Cli.Commands.Groups;

/// <summary>
/// When a bench member's client layers reached each milestone of a membership change, read from their debug log
/// events without reaching into the layers: the Flush layer's Spread view received and Flush view installed, the
/// secure layer's key agreement started (= the Flush view arrived), each key agreement message computed and the first one received.
/// </summary>
internal sealed class KeyingLog : ILoggerFactory, ILogger
{
    /// <summary>Secure layer: "key agreement started for a view of {Members} members" (ClientLog).</summary>
    public const int KeyAgreementStarted = 1000;

    /// <summary>Secure layer: "first key agreement message of the view of {Members} members received".</summary>
    public const int FirstKeyAgreementMessage = 1004;

    /// <summary>Flush layer: "Spread view of {Members} members received, flush started".</summary>
    public const int SpreadViewReceived = 1005;

    /// <summary>Flush layer: "every FLUSH_OK in, view of {Members} members installed".</summary>
    public const int FlushViewInstalled = 1006;

    /// <summary>Secure layer: "key agreement message computed for a view of {Members} members" (each one this member sends).</summary>
    public const int KeyAgreementSent = 1007;

    private readonly object _lock = new();
    private readonly List<(int Event, long At, int Members)> _marks = [];

    /// <summary>The first time at or after <paramref name="since"/> that event <paramref name="eventId"/> came for a view of <paramref name="members"/> members, if any.</summary>
    public long? FirstSince(int eventId, long since, int members)
    {
        lock (_lock)
        {
            foreach ((int id, long at, int count) in _marks)
            {
                if (id == eventId && at >= since && count == members)
                {
                    return at;
                }
            }

            return null;
        }
    }

    /// <summary>The last time at or after <paramref name="since"/> that event <paramref name="eventId"/> came for a view of <paramref name="members"/> members, if any.</summary>
    public long? LastSince(int eventId, long since, int members)
    {
        lock (_lock)
        {
            for (int i = _marks.Count - 1; i >= 0; i--)
            {
                (int id, long at, int count) = _marks[i];
                if (at < since)
                {
                    return null;
                }

                if (id == eventId && count == members)
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
        // Records the milestones for the bench; no providers.
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel == LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id is not (KeyAgreementStarted or FirstKeyAgreementMessage or SpreadViewReceived or FlushViewInstalled or KeyAgreementSent)
            || state is not IReadOnlyList<KeyValuePair<string, object?>> fields)
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
                    _marks.Add((eventId.Id, now, members));
                }
            }
        }
    }

    public void Dispose()
    {
        // Nothing held.
    }
}
