using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Crypto.Tests.KeyAgreement;

/// <summary>A member recognises its own echo by its bytes instead of verifying its own signature; anything else is verified.</summary>
public sealed class OwnEchoTests
{
    public static TheoryData<KeyAgreementProtocol> ProtocolData() => Protocols.AllData();

    [Theory]
    [MemberData(nameof(ProtocolData))]
    public void A_members_own_message_with_another_signature_is_refused(KeyAgreementProtocol protocol)
    {
        using var sim = new Simulator(protocol, DhGroup.Ristretto255, 41);
        List<string> members = Enumerable.Range(0, 4).Select(_ => sim.Create().Name).ToList();
        sim.Install(members.Take(3));
        sim.Run();
        sim.ResetMeasurement();
        sim.Install(members.Take(2));
        byte[] own = Assert.Single(sim.Broadcasts);
        Assert.True(Envelope.TryParse(own, out Envelope envelope));
        SimulatedMember sender = sim[envelope.Sender];

        // Same signed bytes, a different signature: not the echo of what the sender signed, and not a valid signature.
        byte[] tampered = [.. own];
        tampered[^1] ^= 1;
        byte[] before = sender.Module().StateDigest();
        Assert.Equal(Rejection.BadSignature, sender.Module.OnMessage(tampered).Rejection);
        Assert.Equal(before, sender.Module().StateDigest());

        sim.Run();
        Checks.AllAgree(sim, "after the tampered echo");
    }
}
