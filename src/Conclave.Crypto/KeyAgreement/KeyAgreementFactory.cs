namespace Conclave.Crypto.KeyAgreement;

/// <summary>Creates key agreement modules.</summary>
public static class KeyAgreementFactory
{
    /// <summary>Creates a module running <paramref name="protocol"/> for the member described by <paramref name="options"/>.</summary>
    public static IGroupKeyAgreement Create(KeyAgreementProtocol protocol, KeyAgreementOptions options) => protocol switch
    {
        KeyAgreementProtocol.Gdh => new GdhModule(options),
        KeyAgreementProtocol.Ckd => new CkdModule(options),
        KeyAgreementProtocol.Tgdh => new TgdhModule(options),
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "Unknown key agreement protocol."),
    };
}
