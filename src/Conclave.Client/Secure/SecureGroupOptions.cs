using System.Diagnostics.Metrics;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Microsoft.Extensions.Logging;

namespace Conclave.Client.Secure;

/// <summary>How a secure group agrees on keys and whom it trusts; chosen per group at join time.</summary>
public sealed record SecureGroupOptions
{
    /// <summary>Gets the factory of the <c>Conclave.Client</c> meter (docs/operations.md); null: a process-wide meter.</summary>
    public IMeterFactory? MeterFactory { get; init; }

    /// <summary>Gets where the group logs (key agreement and refused messages); null: nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Gets the key agreement protocol (GDH, CKD or TGDH).</summary>
    public required KeyAgreementProtocol Protocol { get; init; }

    /// <summary>Gets this member's long-term Ed25519 identity.</summary>
    public required MemberIdentity Identity { get; init; }

    /// <summary>Gets the trusted public keys, by private group name (<c>#name#daemon</c>).</summary>
    public required MemberDirectory Directory { get; init; }

    /// <summary>Gets the DH group; ristretto255 unless set.</summary>
    public DhGroup DhGroup { get; init; } = DhGroup.Ristretto255;
}
