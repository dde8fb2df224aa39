using System.Security.Cryptography;
using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Crypto.Tests.KeyAgreement;

/// <summary>The properties every protocol must keep, checked against a simulator after each event.</summary>
internal static class Checks
{
    public static ModuleBase Module(this SimulatedMember member) => (ModuleBase)member.Module;

    /// <summary>Every member of every component is settled with the component's one key, and no message was refused.</summary>
    public static void AllAgree(Simulator sim, string context)
    {
        Assert.True(sim.Rejections.Count == 0, $"{context}: rejections {string.Join(", ", sim.Rejections)}");
        foreach (List<string> component in sim.Components)
        {
            SimulatedMember first = sim[component[0]];
            foreach (string name in component)
            {
                SimulatedMember m = sim[name];
                Assert.True(m.Module.IsSettled, $"{context}: {name} not settled in [{string.Join(",", component)}]");
                Assert.True(m.Module().LastKey!.AsSpan().SequenceEqual(first.Module().LastKey), $"{context}: {name} and {first.Name} hold different keys");
                Assert.Equal(first.Module.CurrentEpoch, m.Module.CurrentEpoch);
                Assert.True(m.Keys[^1].Confirmation.AsSpan().SequenceEqual(first.Keys[^1].Confirmation), $"{context}: confirmations differ");
            }
        }
    }

    /// <summary>
    /// <paramref name="outsider"/> cannot reach the group secret whose digest is <paramref name="targetDigest"/>:
    /// no element it holds or saw, raised to any scalar it holds, is that secret.
    /// </summary>
    public static void CannotDerive(SimulatedMember outsider, byte[] targetDigest, IEnumerable<byte[]> eavesdropped, DhGroup group, string context)
    {
        ModuleBase module = outsider.Module();
        var elements = module.KnownElements.Concat(eavesdropped.SelectMany(module.ElementsIn)).ToList();
        var scalars = module.KnownScalars.ToList();
        var counter = new OperationCounter();
        foreach (byte[] e in elements)
        {
            Assert.False(SHA256.HashData(e).AsSpan().SequenceEqual(targetDigest), $"{context}: {outsider.Name} holds the group secret");

            // Checked once per element, not per scalar: in MODP groups the check is a full-length exponentiation.
            if (!group.IsValidElement(e, counter))
            {
                continue;
            }

            foreach (byte[] s in scalars)
            {
                byte[] candidate = group.Exp(e, s, counter);
                Assert.False(SHA256.HashData(candidate).AsSpan().SequenceEqual(targetDigest), $"{context}: {outsider.Name} can compute the group secret");
            }
        }
    }
}
