using System.Diagnostics;

namespace Conclave.Cli.Commands.Groups;

/// <summary>
/// The last view one bench member installed and when (Stopwatch ticks); waiters get the time at which a view they
/// describe was installed, so a measurement ends at the moment the last member had the new view, not when the
/// bench noticed.
/// </summary>
internal sealed class ViewTracker
{
    private readonly object _lock = new();
    private readonly List<(Func<IReadOnlyList<string>, bool> Match, TaskCompletionSource<long> Done)> _waiters = [];
    private IReadOnlyList<string> _members = [];
    private long _installedAt;
    private int _installs;
    private string? _closedBy;

    /// <summary>What a stalled run's message says about this member: views installed so far, and why its session ended if it did.</summary>
    public string Summary
    {
        get
        {
            lock (_lock)
            {
                return _closedBy is null ? $"{_installs} views" : $"{_installs} views, session ended: {_closedBy}";
            }
        }
    }

    /// <summary>Records a view (for a secure group: a view together with its key).</summary>
    public void Installed(IReadOnlyList<string> members)
    {
        long now = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            _members = members;
            _installedAt = now;
            _installs++;
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(members))
                {
                    _waiters[i].Done.TrySetResult(now);
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Fails every waiter (the member's session ended).</summary>
    public void Closed(Exception reason)
    {
        lock (_lock)
        {
            _closedBy = reason.Message;
            foreach ((_, TaskCompletionSource<long> done) in _waiters)
            {
                done.TrySetException(reason);
            }

            _waiters.Clear();
        }
    }

    /// <summary>The time the first view matching <paramref name="match"/> was installed (now, if the current one does).</summary>
    public Task<long> WhenAsync(Func<IReadOnlyList<string>, bool> match)
    {
        lock (_lock)
        {
            if (match(_members))
            {
                return Task.FromResult(_installedAt);
            }

            var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, done));
            return done.Task;
        }
    }
}
