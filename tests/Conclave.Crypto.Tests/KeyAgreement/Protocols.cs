using Conclave.Crypto.KeyAgreement;

namespace Conclave.Crypto.Tests.KeyAgreement;

internal static class Protocols
{
    public static readonly KeyAgreementProtocol[] All = [KeyAgreementProtocol.Gdh, KeyAgreementProtocol.Ckd, KeyAgreementProtocol.Tgdh];

    public static TheoryData<KeyAgreementProtocol> AllData()
    {
        var data = new TheoryData<KeyAgreementProtocol>();
        foreach (KeyAgreementProtocol p in All)
        {
            data.Add(p);
        }

        return data;
    }
}
