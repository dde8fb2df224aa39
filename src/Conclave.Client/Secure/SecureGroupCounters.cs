namespace Conclave.Client.Secure;

/// <summary>What a secure group refused, and how often its key changed.</summary>
public sealed class SecureGroupCounters
{
    /// <summary>Gets the number of data messages refused as replays (a sequence number not above the sender's last).</summary>
    public long Replays { get; internal set; }

    /// <summary>Gets the number of data messages sealed under another epoch than the current key's.</summary>
    public long OtherEpoch { get; internal set; }

    /// <summary>Gets the number of data messages that failed authentication, were malformed or came from a non-member.</summary>
    public long Forged { get; internal set; }

    /// <summary>Gets the number of data messages whose per-message signature was missing or did not verify.</summary>
    public long BadSignature { get; internal set; }

    /// <summary>Gets the number of key agreement messages the module refused as malformed, forged, unexpected or from an untrusted sender (not stale ones or duplicates, not unicasts for someone else).</summary>
    public long KeyAgreementRejected { get; internal set; }

    /// <summary>Gets the number of key agreement messages of an abandoned view or run, or already received (normal after cascading membership changes).</summary>
    public long KeyAgreementStale { get; internal set; }

    /// <summary>Gets the number of keys installed (views and refreshes).</summary>
    public long KeysInstalled { get; internal set; }

    /// <summary>Gets the number of key agreement runs started (views, restarts after cascades, refreshes asked for).</summary>
    public long RunsStarted { get; internal set; }
}
