using Conclave.Protocol.Ring;

namespace Conclave.Daemon.Ring;

/// <summary>
/// The ring's five timers on real time: one <see cref="Timer"/> each, and the armed deadline and
/// generation the firing must carry. A firing that comes early (re-armed meanwhile) waits again.
/// Only touched inside the daemon's serialised core, except the timer callbacks that enter it.
/// </summary>
internal sealed class RingTimers : IDisposable
{
    private readonly Timer[] _timers;
    private readonly long[] _deadline = new long[Count];
    private readonly ulong[] _generation = new ulong[Count];
    private readonly bool[] _armed = new bool[Count];
    private static readonly int Count = Enum.GetValues<RingTimer>().Length;
    private readonly Func<long> _clock;

    public RingTimers(Func<long> clockUs, Action<RingTimer> fired)
    {
        _clock = clockUs;
        _timers = [.. Enumerable.Range(0, Count).Select(i => new Timer(_ => fired((RingTimer)i)))];
    }

    public void Set(SetTimer set)
    {
        int i = (int)set.Timer;
        _armed[i] = true;
        _deadline[i] = set.DeadlineUs;
        _generation[i] = set.Generation;
        Schedule(i);
    }

    public void Cancel(RingTimer timer)
    {
        _armed[(int)timer] = false;
        _timers[(int)timer].Change(Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>Inside the core, when a timer fired: the generation to hand the ring, or null if not due.</summary>
    public ulong? Due(RingTimer timer)
    {
        int i = (int)timer;
        if (!_armed[i])
        {
            return null;
        }

        if (_clock() < _deadline[i])
        {
            Schedule(i);
            return null;
        }

        _armed[i] = false;
        return _generation[i];
    }

    private void Schedule(int i)
    {
        long delayUs = _deadline[i] - _clock();
        long delayMs = delayUs <= 0 ? 0 : (delayUs + 999) / 1000;
        _timers[i].Change(delayMs, Timeout.Infinite);
    }

    public void Dispose()
    {
        foreach (Timer timer in _timers)
        {
            timer.Dispose();
        }
    }
}
