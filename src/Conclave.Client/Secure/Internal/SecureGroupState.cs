namespace Conclave.Client.Secure.Internal;

/// <summary>One secure group on a <see cref="SecureConnection"/>: its core and its refresh timer.</summary>
internal sealed class SecureGroupState(SecureGroupCore core, TimeSpan? refreshInterval) : IDisposable
{
    private Timer? _timer;

    public SecureGroupCore Core { get; } = core;

    /// <summary>When the current key was installed (<see cref="Environment.TickCount64"/>).</summary>
    public long KeyInstalledAt { get; set; }

    /// <summary>True once the current key is older than the refresh interval.</summary>
    public bool RefreshDue => refreshInterval is TimeSpan interval && Environment.TickCount64 - KeyInstalledAt >= (long)interval.TotalMilliseconds;

    /// <summary>Checks twice per interval, so no key lives longer than 1.5 intervals while the group is stable.</summary>
    public void StartTimer(TimeSpan interval, Action check)
    {
        TimeSpan tick = interval / 2;
        _timer = new Timer(_ => check(), null, tick, tick);
    }

    public void Dispose()
    {
        _timer?.Dispose();
        Core.Dispose();
    }
}
