namespace Conclave.Crypto;

/// <summary>The trusted long-term public keys: which Ed25519 key speaks for which member name.</summary>
public sealed class MemberDirectory
{
    private readonly Dictionary<string, byte[]> _keys = new(StringComparer.Ordinal);

    /// <summary>Adds or replaces the public key of <paramref name="member"/>.</summary>
    public void Add(string member, ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != 32)
        {
            throw new ArgumentException("An Ed25519 public key is 32 bytes.", nameof(publicKey));
        }

        _keys[member] = publicKey.ToArray();
    }

    /// <summary>Looks up the public key of <paramref name="member"/>.</summary>
    public bool TryGet(string member, out byte[] publicKey) => _keys.TryGetValue(member, out publicKey!);
}
