using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Crypto.Tests.KeyAgreement;

/// <summary>
/// GDH raises long partial-key lists (the controller's hand-off, the joiner's key list) over several cores: the same
/// keys and counts as one by one, and one bad element anywhere in a long list still refuses the whole message.
/// </summary>
public sealed class GdhLargeListTests
{
    private const int N = 24;

    [Fact]
    public void A_long_hand_off_with_one_element_outside_the_group_is_refused_and_changes_nothing()
    {
        using var sim = new Simulator(KeyAgreementProtocol.Gdh, DhGroup.Ristretto255, 7);
        List<string> names = Enumerable.Range(0, N).Select(_ => sim.Create().Name).ToList();
        sim.Install(names[..^1]);
        sim.Run();
        Checks.AllAgree(sim, "setup");
        ulong viewId = sim[names[0]].Module.CurrentEpoch!.Value.ViewId + 1;

        // The joiner waits for its hand-off; the real one stays queued while crafted ones are tried first.
        sim.Install(names);
        SimulatedMember joiner = sim[names[^1]];
        byte[] before = joiner.Module().StateDigest();
        List<byte[]> valid = [.. Enumerable.Range(0, N).Select(_ => DhGroup.Ristretto255.Generator)];
        foreach (int bad in new[] { 0, N / 2, N - 2, N - 1 })
        {
            List<byte[]> partials = [.. valid];
            partials[bad] = Enumerable.Repeat((byte)0xFF, DhGroup.Ristretto255.ElementLength).ToArray();
            StepResult r = joiner.Module.OnMessage(HandOff(sim, viewId, names, partials));
            Assert.Equal(Rejection.Invalid, r.Rejection);
            Assert.Empty(r.Outputs);
            Assert.Equal(before, joiner.Module().StateDigest());
        }

        long exps = joiner.Counter.TotalExponentiations;
        StepResult accepted = joiner.Module.OnMessage(HandOff(sim, viewId, names, valid));
        Assert.Equal(Rejection.None, accepted.Rejection);
        Assert.Single(accepted.Outputs.OfType<SendMessage>());
        Assert.Equal(N, joiner.Counter.TotalExponentiations - exps);
    }

    [Fact]
    public void Joins_and_leaves_over_long_lists_agree_with_the_serial_counts()
    {
        using var sim = new Simulator(KeyAgreementProtocol.Gdh, DhGroup.Ristretto255, 8);
        List<string> names = [sim.Create().Name];
        sim.Install(names);
        sim.Run();
        for (int n = 2; n <= N + 2; n++)
        {
            names.Add(sim.Create().Name);
            sim.ResetMeasurement();
            sim.Install(names);
            sim.Run();
            Checks.AllAgree(sim, $"join n={n}");
            Assert.Equal(2 * n, sim.SerialCost(names).Exps);
        }

        names.RemoveAt(names.Count - 1);
        sim.ResetMeasurement();
        sim.Install(names);
        sim.Run();
        Checks.AllAgree(sim, "controller leave");
        Assert.Equal(names.Count, sim.SerialCost(names).Exps); // n − 1 for the n members before the leave
    }

    /// <summary>A join hand-off from the controller (the member before the joiner) to the joiner, signed by the controller.</summary>
    private static byte[] HandOff(Simulator sim, ulong viewId, List<string> order, List<byte[]> partials) =>
        new Envelope
        {
            Protocol = KeyAgreementProtocol.Gdh,
            Type = 1,
            ViewId = viewId,
            Run = 0,
            Group = "sim-group",
            Sender = order[^2],
            Recipient = order[^1],
            Payload = new PayloadWriter().Names(order).Elements(partials).ToArray(),
        }.Seal(sim[order[^2]].Identity, new OperationCounter());
}
