namespace Conclave.Client.Secure;

/// <summary>The authenticated encryption a secure group seals its messages with; chosen per group at join time.</summary>
public enum SecureAead : byte
{
    /// <summary>AES-256-GCM (the default).</summary>
    Aes256Gcm = 1,

    /// <summary>ChaCha20-Poly1305 (RFC 8439, IETF nonce), for machines without AES instructions.</summary>
    ChaCha20Poly1305 = 2,
}
