using Conclave.Crypto;

namespace Conclave.Client.Secure;

/// <summary>Which long-term Ed25519 public keys may hold a group's key.</summary>
/// <remarks>
/// A member of the view whose name has no key in the directory, or whose key is not allowed, is left out of
/// key agreement and reported in <see cref="SecureView.Excluded"/>. Every member must apply the same policy:
/// members that disagree on who is in the key never finish a run (no key, so nothing is sent — safe, not live).
/// </remarks>
public sealed class TrustPolicy
{
    private readonly HashSet<string>? _allowed;

    private TrustPolicy(HashSet<string>? allowed) => _allowed = allowed;

    /// <summary>Gets a policy that trusts every member the directory has a key for.</summary>
    public static TrustPolicy DirectoryMembers { get; } = new(null);

    /// <summary>Creates a policy that trusts only members whose directory key is one of <paramref name="publicKeys"/>.</summary>
    /// <param name="publicKeys">32-byte Ed25519 public keys.</param>
    /// <returns>The policy.</returns>
    public static TrustPolicy AllowKeys(IEnumerable<byte[]> publicKeys)
    {
        ArgumentNullException.ThrowIfNull(publicKeys);
        var allowed = new HashSet<string>(StringComparer.Ordinal);
        foreach (byte[] key in publicKeys)
        {
            if (key.Length != 32)
            {
                throw new ArgumentException("An Ed25519 public key is 32 bytes.", nameof(publicKeys));
            }

            allowed.Add(Convert.ToBase64String(key));
        }

        return new TrustPolicy(allowed);
    }

    /// <summary>True if <paramref name="member"/> has a directory key that this policy allows.</summary>
    /// <param name="member">A private group name, <c>#name#daemon</c>.</param>
    /// <param name="directory">Who holds which key.</param>
    /// <returns>Whether the member may hold the group key.</returns>
    public bool Allows(string member, MemberDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return directory.TryGet(member, out byte[] key) && (_allowed is null || _allowed.Contains(Convert.ToBase64String(key)));
    }
}
