using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Crypto.Tests.KeyAgreement;

/// <summary>
/// TGDH sponsors with long paths publish their blinded keys in two parts when configured to
/// (<see cref="Simulator.TgdhSplitFrom"/>; one part by default since sealed paths, key-agreement.md §6.3): the lower
/// part with a promise of the upper nodes, then the upper part. Groups large enough for that, random events, and
/// promises that are abused.
/// </summary>
public sealed class TgdhTwoPartTests
{
    private const byte LowerBlindedKeys = 4;
    private const byte BlindedKeys = 2;

    // The threshold the two-part publication used to have by default (paths of 6 keys or more).
    private const int SplitFrom = 6;

    [Theory]
    [InlineData(31, false)]
    [InlineData(32, true)]
    [InlineData(33, false)]
    public void Random_events_in_large_groups_agree_with_two_part_publications(int seed, bool unicastsLast)
    {
        using var sim = new Simulator(KeyAgreementProtocol.Tgdh, DhGroup.Ristretto255, seed) { HoldUnicasts = unicastsLast, TgdhSplitFrom = SplitFrom };
        var random = new Random(seed);
        List<string> members = Enumerable.Range(0, 70).Select(_ => sim.Create().Name).ToList();
        sim.DealTgdh(members);
        int twoPart = 0;
        for (int step = 0; step < 14; step++)
        {
            Dictionary<string, byte[]> keyBefore = sim.Components.SelectMany(c => c).ToDictionary(n => n, n => sim[n].Module().LastKey!.ToArray());
            Dictionary<string, List<string>> componentBefore = sim.Components.SelectMany(c => c.Select(n => (n, c))).ToDictionary(p => p.n, p => p.c.ToList());
            List<string> affected = [];
            string description = PropertyTests.ApplyRandomEvent(sim, random, 90, affected);
            string context = $"seed {seed} step {step} ({description})";
            sim.ResetMeasurement();
            sim.Run();
            Checks.AllAgree(sim, context);
            twoPart += sim.Broadcasts.Count(b => b[2] == LowerBlindedKeys);
            foreach (List<string> component in sim.Components)
            {
                foreach (string name in component.Where(n => affected.Contains(n) && keyBefore.ContainsKey(n)))
                {
                    Assert.False(keyBefore[name].AsSpan().SequenceEqual(sim[name].Module().LastKey), $"{context}: key of {name} unchanged");
                }

                // A few of the members who left this component cannot reach its new secret from what they hold and saw.
                byte[] digest = sim[component[0]].Module().LastElementDigest!;
                foreach (string outsider in componentBefore.Where(p => p.Value.Intersect(component).Any() && !component.Contains(p.Key)).Select(p => p.Key).Take(2))
                {
                    Checks.CannotDerive(sim[outsider], digest, sim.Broadcasts, DhGroup.Ristretto255, $"{context}: removed {outsider}");
                }
            }
        }

        Assert.True(twoPart > 0, "no event published in two parts");
    }

    [Fact]
    public void A_leave_in_a_large_group_is_published_in_two_parts_by_one_sponsor()
    {
        using var sim = new Simulator(KeyAgreementProtocol.Tgdh, DhGroup.Ristretto255, 34) { TgdhSplitFrom = SplitFrom };
        List<string> members = Enumerable.Range(0, 100).Select(_ => sim.Create().Name).ToList();
        sim.DealTgdh(members);
        members.RemoveAt(50);
        sim.ResetMeasurement();
        sim.Install(members);
        sim.Run();
        Checks.AllAgree(sim, "leave n=100");
        List<Envelope> broadcasts = sim.Broadcasts.Select(Parse).ToList();
        Assert.Equal([LowerBlindedKeys, BlindedKeys], broadcasts.Select(b => b.Type));
        Assert.Equal(broadcasts[0].Sender, broadcasts[1].Sender);
    }

    [Fact]
    public void Abused_promises_are_refused_without_changing_state()
    {
        using var sim = new Simulator(KeyAgreementProtocol.Tgdh, DhGroup.Ristretto255, 35) { TgdhSplitFrom = SplitFrom };
        List<string> members = Enumerable.Range(0, 100).Select(_ => sim.Create().Name).ToList();
        sim.DealTgdh(members);
        members.RemoveAt(50);
        sim.ResetMeasurement();
        sim.Install(members);
        Envelope first = Parse(Assert.Single(sim.Broadcasts));
        Assert.Equal(LowerBlindedKeys, first.Type);
        string sponsor = first.Sender;
        var victims = members.Where(m => m != sponsor).Take(5).Select(m => sim[m]).ToList();

        void AssertRefused(byte[] wire, string what)
        {
            foreach (SimulatedMember v in victims)
            {
                byte[] before = v.Module().StateDigest();
                StepResult r = v.Module.OnMessage(wire);
                Assert.True(r.Rejection == Rejection.Invalid, $"{what}: {v.Name} answered {r.Rejection}");
                Assert.Empty(r.Outputs);
                Assert.Equal(before, v.Module().StateDigest());
            }
        }

        // A first part that promises nodes past the root, or none at all (the promise follows the keys; the sealed
        // box for the members under the sponsor's parent comes last).
        byte[] payload = first.Payload;
        int promiseAt = 4 + (((payload[0] << 8) | payload[1]) * (2 + ((payload[2] << 8) | payload[3])));
        byte[] WithPromise(byte high, byte low) => [.. payload[..promiseAt], high, low, .. payload[(promiseAt + 2)..]];
        AssertRefused(Reseal(sim, first, sponsor, LowerBlindedKeys, WithPromise(0, 60)), "promise past the root");
        AssertRefused(Reseal(sim, first, sponsor, LowerBlindedKeys, WithPromise(0, 0)), "empty promise");

        // Once the first part is in, a blinded key for a promised node from anyone but the sponsor.
        sim.Run(limit: 1);
        Assert.Empty(sim.Rejections);
        TgdhModule module = (TgdhModule)victims[0].Module;
        TreeNode root = module.CurrentTreeForTests!;
        TreeNode sponsorLeaf = TgdhTree.Leaves(root).Single(l => l.Member == sponsor);
        int lowerCount = (payload[0] << 8) | payload[1];
        TreeNode promised = sponsorLeaf;
        for (int i = 0; i < lowerCount; i++)
        {
            promised = promised.Parent!;
        }

        Assert.Null(promised.Bk);
        TreeNode otherSide = promised.Left == sponsorLeaf || TgdhTree.Leaves(promised.Left!).Contains(sponsorLeaf) ? promised.Right! : promised.Left!;
        TreeNode impostorLeaf = TgdhTree.Rightmost(otherSide);
        int steps = 0;
        for (TreeNode n = impostorLeaf; n != promised; n = n.Parent!)
        {
            steps++;
        }

        // The impostor's key is a valid element (any member's blinded key): only the promise stands in its way.
        byte[] element = sponsorLeaf.Sibling.Bk ?? otherSide.Bk!;
        var keys = new PayloadWriter().U16(1).U16(element.Length).U16(steps).Bytes(element).U8(0).ToArray();
        AssertRefused(Reseal(sim, first, impostorLeaf.Member!, BlindedKeys, keys), "a promised node filled by another member");

        sim.Run();
        Checks.AllAgree(sim, "leave after the refused messages");
    }

    private static byte[] Reseal(Simulator sim, Envelope like, string sender, byte type, byte[] payload) =>
        new Envelope
        {
            Protocol = like.Protocol,
            Type = type,
            ViewId = like.ViewId,
            Run = like.Run,
            Group = like.Group,
            Sender = sender,
            Recipient = null,
            Payload = payload,
        }.Seal(sim[sender].Identity, new OperationCounter());

    private static Envelope Parse(byte[] wire)
    {
        Assert.True(Envelope.TryParse(wire, out Envelope envelope));
        return envelope;
    }
}
