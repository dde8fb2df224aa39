namespace Conclave.Client.Diagnostics;

/// <summary>The client library's meter, instrument and tag names (docs/operations.md lists them with units).</summary>
public static class ClientMetricNames
{
    /// <summary>The meter every client instrument belongs to.</summary>
    public const string Meter = "Conclave.Client";

    /// <summary>Counter: group keys installed, tagged by protocol.</summary>
    public const string Rekeys = "conclave.secure.rekeys";
    /// <summary>Histogram: seconds from a new view to its key, tagged by protocol.</summary>
    public const string KeyAgreementDuration = "conclave.secure.key_agreement.duration";
    /// <summary>Counter: secure messages refused, tagged by cause.</summary>
    public const string MessagesRejected = "conclave.secure.messages.rejected";

    /// <summary>Tag of <see cref="Rekeys"/> and <see cref="KeyAgreementDuration"/>: gdh, ckd or tgdh.</summary>
    public const string ProtocolTag = "conclave.secure.protocol";

    /// <summary>Tag of <see cref="MessagesRejected"/>: replay, other_epoch, forged or key_agreement.</summary>
    public const string RejectCauseTag = "conclave.secure.reject.cause";
}
