using Conclave.Client.Secure;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Cli.Commands;

/// <summary>Parses the secure layer's per-group choices as the commands spell them.</summary>
internal static class SecureChoices
{
    public static bool TryParseProtocol(string text, out KeyAgreementProtocol protocol)
    {
        (bool ok, protocol) = text.ToUpperInvariant() switch
        {
            "GDH" => (true, KeyAgreementProtocol.Gdh),
            "CKD" => (true, KeyAgreementProtocol.Ckd),
            "TGDH" => (true, KeyAgreementProtocol.Tgdh),
            _ => (false, default),
        };
        return ok;
    }

    public static bool TryParseAead(string text, out SecureAead aead)
    {
        (bool ok, aead) = text.ToUpperInvariant() switch
        {
            "AES" or "AES-256-GCM" or "AES256GCM" => (true, SecureAead.Aes256Gcm),
            "CHACHA" or "CHACHA20-POLY1305" or "CHACHA20POLY1305" => (true, SecureAead.ChaCha20Poly1305),
            _ => (false, default),
        };
        return ok;
    }
}
