namespace Conclave.Client.Diagnostics;

/// <summary>Why a secure group refused a message.</summary>
internal enum SecureRejection
{
    /// <summary>A sequence number not above the sender's last.</summary>
    Replay,

    /// <summary>Sealed under another epoch than the current key's (normal around a view change).</summary>
    OtherEpoch,

    /// <summary>Failed authentication, malformed, or from a non-member.</summary>
    Forged,

    /// <summary>A key agreement message the module refused.</summary>
    KeyAgreement,
}

/// <summary>
/// What the secure layer reports as it runs: the small hook interface between SecureGroupCore and the
/// client's metrics and logs, so the core stays free of both.
/// </summary>
internal interface ISecureGroupObserver
{
    /// <summary>A new view arrived: its key agreement starts.</summary>
    void KeyAgreementStarted(int members);

    /// <summary>This member's key agreement produced a message to send (times the run's serial steps).</summary>
    void KeyAgreementSent(int members);

    /// <summary>A key was installed (after a view's key agreement, or a refresh).</summary>
    void KeyEstablished(string epoch, int members);

    /// <summary>A message was refused.</summary>
    void Rejected(SecureRejection cause, string sender);
}

/// <summary>An observer that observes nothing (the core's default).</summary>
internal sealed class NoSecureGroupObserver : ISecureGroupObserver
{
    public static readonly NoSecureGroupObserver Instance = new();

    public void KeyAgreementStarted(int members)
    {
    }

    public void KeyAgreementSent(int members)
    {
    }

    public void KeyEstablished(string epoch, int members)
    {
    }

    public void Rejected(SecureRejection cause, string sender)
    {
    }
}
