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
    private readonly List<int> _sizes = [];
    private string? _closedBy;

    /// <summary>What a stalled run's message says about this member: views installed so far, and why its session ended if it did.</summary>
    public string Summary
    {
        get
        {
            lock (_lock)
            {
                // The sizes tell a reconfiguration (a receiver alone for a while) from a lost delivery in one view.
                string views = $"{_installs} views of {string.Join(",", _sizes)} members";
                return _closedBy is null ? views : $"{views}, session ended: {_closedBy}";
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
            if (_sizes.Count < 64)
            {
                _sizes.Add(members.Count);
            }
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

    /// <summary>Completes at the next view installed from now on (fails if the session ends first).</summary>
    public Task<long> NextAsync()
    {
        lock (_lock)
        {
            var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_closedBy is not null)
            {
                done.SetException(new InvalidOperationException(_closedBy));
            }
            else
            {
                _waiters.Add((_ => true, done));
            }

            return done.Task;
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
