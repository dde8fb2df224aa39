using System.Diagnostics.Metrics;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Microsoft.Extensions.Logging;

namespace Conclave.Client.Secure;

/// <summary>How a secure group agrees on keys, seals messages and whom it trusts; chosen per group at join time.</summary>
/// <remarks>Every member of a group must use the same protocol, DH group, AEAD, trust policy and signature choice.</remarks>
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

    /// <summary>Gets the members' public keys, by private group name (<c>#name#daemon</c>).</summary>
    public required MemberDirectory Directory { get; init; }

    /// <summary>Gets the DH group; ristretto255 unless set.</summary>
    public DhGroup DhGroup { get; init; } = DhGroup.Ristretto255;

    /// <summary>Gets the AEAD that seals data messages; AES-256-GCM unless set.</summary>
    public SecureAead Aead { get; init; } = SecureAead.Aes256Gcm;

    /// <summary>Gets which directory keys may hold the group key; every directory member unless set.</summary>
    public TrustPolicy Trust { get; init; } = TrustPolicy.DirectoryMembers;

    /// <summary>Gets a value indicating whether every data message carries the sender's Ed25519 signature (inside the ciphertext).</summary>
    /// <remarks>Without it a message proves only "some current member"; with it, which member (≈70 µs more per message).</remarks>
    public bool SignMessages { get; init; }

    /// <summary>Gets where this member's key agreement counts its public-key operations (exponentiations, signatures made and verified); null: a private counter.</summary>
    /// <remarks>Not thread-safe: read it while the group is quiet (benchmarks read it between membership changes).</remarks>
    public OperationCounter? Counter { get; init; }

    /// <summary>Gets how often the group key is refreshed while the membership stays the same; never unless set.</summary>
    /// <remarks>The first member of the view asks for the refresh, so the group refreshes once per interval.</remarks>
    public TimeSpan? RefreshInterval { get; init; }

    /// <summary>
    /// Gets a value indicating whether a received <see cref="SecureMessage"/>'s body is decrypted into a buffer rented
    /// from a pool, which <see cref="SecureMessage.Dispose"/> returns (cleared) for the next message; false (the
    /// default): each body is a new array, and disposing a message does nothing.
    /// </summary>
    /// <remarks>
    /// For an application that is done with each message before it receives many more: it saves an allocation (and the
    /// garbage collector's clearing of it) per message received. After <see cref="SecureMessage.Dispose"/> the body must
    /// not be read, nor any <see cref="ReadOnlyMemory{T}"/> taken from it; a message never disposed is simply collected.
    /// A local choice: members of a group need not agree on it.
    /// </remarks>
    public bool PooledMessageBodies { get; init; }

    /// <summary>
    /// Gets a value indicating whether the group's Flush layer uses the coordinator exchange (docs/flush.md, "Coordinated
    /// groups": each member's FLUSH_OK goes to the view's first member, which announces ALL_FLUSHED; 2n deliveries per
    /// change instead of n²) rather than Spread FL's FLUSH_OK multicasts. Every member of a group must use the same.
    /// </summary>
    public bool CoordinatedFlush { get; init; } = true;
}
