using Conclave.Client.Diagnostics;
using Conclave.Client.Flush;

namespace Conclave.Client.Secure.Internal;

/// <summary>One secure group on a <see cref="SecureConnection"/>: its core and its refresh timer.</summary>
internal sealed class SecureGroupState(SecureGroupCore core, TimeSpan? refreshInterval) : IDisposable
{
    private Timer? _timer;

    public SecureGroupCore Core { get; } = core;

    /// <summary>Gets the group's telemetry, or null.</summary>
    public SecureGroupTelemetry? Telemetry { get; init; }

    /// <summary>Members of the current Flush view, and whether a key agreement message of it arrived yet (for the log).</summary>
    public (int Members, bool Heard) KeyAgreementProgress { get; set; }

    /// <summary>Notes the group's events that time its key agreement: a new view, and the first key agreement message after it.</summary>
    public void Observe(FlushEvent e)
    {
        if (e is FlushView view)
        {
            KeyAgreementProgress = (view.Members.Count, false);
        }
        else if (e is FlushDataMessage { MessageType: SecureGroupCore.KeyAgreementType } && !KeyAgreementProgress.Heard)
        {
            FirstKeyAgreementMessage();
        }
    }

    /// <summary>A key agreement message reached the group (by multicast or through the private group).</summary>
    public void FirstKeyAgreementMessage()
    {
        if (!KeyAgreementProgress.Heard)
        {
            KeyAgreementProgress = KeyAgreementProgress with { Heard = true };
            Telemetry?.FirstKeyAgreementMessage(KeyAgreementProgress.Members);
        }
    }

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
