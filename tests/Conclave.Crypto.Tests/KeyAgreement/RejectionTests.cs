using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Crypto.Tests.KeyAgreement;

/// <summary>Forged, replayed, stale and malformed messages are refused and change nothing.</summary>
public sealed class RejectionTests
{
    public static TheoryData<KeyAgreementProtocol> ProtocolData() => Protocols.AllData();

    [Theory]
    [MemberData(nameof(ProtocolData))]
    public void Bad_messages_are_refused_without_changing_state(KeyAgreementProtocol protocol)
    {
        using var sim = new Simulator(protocol, DhGroup.Ristretto255, 99);
        var names = Enumerable.Range(0, 5).Select(_ => sim.Create().Name).ToList();
        sim.Install(names.Take(4));
        sim.Run();
        Checks.AllAgree(sim, "setup");
        List<byte[]> oldViewBroadcasts = [.. sim.Broadcasts];

        // A leave: members are now waiting for the new run's messages; capture the run without delivering it.
        sim.Install(names.Take(3));
        sim.ResetMeasurement();
        var victims = names.Take(3).Select(n => sim[n]).ToList();
        Dictionary<string, byte[]> before = victims.ToDictionary(v => v.Name, v => v.Module().StateDigest());

        void AssertRefused(byte[] wire, string what, params Rejection[] allowed)
        {
            foreach (SimulatedMember v in victims)
            {
                StepResult r = v.Module.OnMessage(wire);
                Assert.True(allowed.Contains(r.Rejection), $"{what}: {v.Name} answered {r.Rejection}");
                Assert.Empty(r.Outputs);
                Assert.Equal(before[v.Name], v.Module().StateDigest());
            }
        }

        // Stale: every broadcast of the previous view.
        foreach (byte[] old in oldViewBroadcasts)
        {
            AssertRefused(old, "old view", Rejection.StaleView);
        }

        // Malformed: truncations and garbage.
        byte[] sample = oldViewBroadcasts[^1];
        AssertRefused(sample[..10], "truncated", Rejection.Malformed);
        AssertRefused(sample[..^1], "short signature", Rejection.Malformed, Rejection.StaleView);
        AssertRefused([.. sample, 0], "trailing byte", Rejection.Malformed, Rejection.StaleView);
        AssertRefused(new byte[200], "zeros", Rejection.Malformed);

        // Forged: right view and run, but the signature is from someone else's key or tampered.
        uint run = 0;
        ulong viewId = ((ModuleBase)victims[0].Module).CurrentEpoch!.Value.ViewId + 1;
        foreach (byte type in Enumerable.Range(1, 8).Select(t => (byte)t))
        {
            byte[] forged = Craft(sim, protocol, viewId, run, type, sender: names[1], signer: names[0], payload: new byte[40]);
            AssertRefused(forged, $"forged type {type}", Rejection.BadSignature, Rejection.NotForMe);
            byte[] tampered = Craft(sim, protocol, viewId, run, type, sender: names[1], signer: names[1], payload: new byte[40]);
            tampered[20] ^= 1;
            AssertRefused(tampered, $"tampered type {type}", Rejection.BadSignature, Rejection.Malformed, Rejection.UnknownSender, Rejection.WrongContext);

            // Correctly signed by a member but malformed or unexpected contents: refused, nothing changes.
            byte[] junk = Craft(sim, protocol, viewId, run, type, sender: names[1], signer: names[1], payload: new byte[40]);
            AssertRefused(junk, $"junk type {type}", Rejection.Invalid, Rejection.Unexpected);

            // From a member outside the view (names[3] left, names[4] never joined).
            byte[] outsider = Craft(sim, protocol, viewId, run, type, sender: names[4], signer: names[4], payload: []);
            AssertRefused(outsider, $"outsider type {type}", Rejection.UnknownSender);

            // A future run.
            byte[] future = Craft(sim, protocol, viewId, run + 5, type, sender: names[1], signer: names[1], payload: []);
            AssertRefused(future, $"future run type {type}", Rejection.StaleRun);
        }

        // Now let the real run proceed; everyone still agrees.
        sim.Run();
        Checks.AllAgree(sim, "after bad messages");

        // Replays: every message of the finished run, delivered again, is refused.
        foreach (byte[] wire in sim.Broadcasts)
        {
            foreach (SimulatedMember v in victims)
            {
                byte[] digest = v.Module().StateDigest();
                StepResult r = v.Module.OnMessage(wire);
                Assert.True(r.Rejection is Rejection.Replay or Rejection.StaleRun, $"replay answered {r.Rejection}");
                Assert.Equal(digest, v.Module().StateDigest());
            }
        }
    }

    private static byte[] Craft(Simulator sim, KeyAgreementProtocol protocol, ulong viewId, uint run, byte type, string sender, string signer, byte[] payload)
    {
        var envelope = new Envelope
        {
            Protocol = protocol,
            Type = type,
            ViewId = viewId,
            Run = run,
            Group = "sim-group",
            Sender = sender,
            Recipient = null,
            Payload = payload,
        };
        return envelope.Seal(sim[signer].Identity, new OperationCounter());
    }
}
