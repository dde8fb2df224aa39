using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Client.Secure;

/// <summary>How a secure group agrees on keys and whom it trusts; chosen per group at join time.</summary>
public sealed record SecureGroupOptions
{
    /// <summary>Gets the key agreement protocol (GDH, CKD or TGDH).</summary>
    public required KeyAgreementProtocol Protocol { get; init; }

    /// <summary>Gets this member's long-term Ed25519 identity.</summary>
    public required MemberIdentity Identity { get; init; }

    /// <summary>Gets the trusted public keys, by private group name (<c>#name#daemon</c>).</summary>
    public required MemberDirectory Directory { get; init; }

    /// <summary>Gets the DH group; ristretto255 unless set.</summary>
    public DhGroup DhGroup { get; init; } = DhGroup.Ristretto255;
}
