using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Crypto.Tests.KeyAgreement;

/// <summary>
/// TGDH's single join (one new member, a component of two or more): the component's tree goes to the joiner alone,
/// the sponsor is an existing member, and the joiner copes with the sponsor's keys arriving before its tree.
/// </summary>
public sealed class TgdhJoinTests
{
    private const int Members = 40;

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    public void A_single_join_sends_the_tree_to_the_joiner_alone_and_an_existing_member_sponsors(int splitFrom)
    {
        using var sim = new Simulator(KeyAgreementProtocol.Tgdh, DhGroup.Ristretto255, 21) { TgdhSplitFrom = splitFrom };
        List<string> members = [sim.Create().Name, sim.Create().Name];
        sim.Install(members);
        sim.Run();
        int twoPart = 0;
        for (int n = 3; n <= Members; n++)
        {
            string joiner = sim.Create().Name;
            members.Add(joiner);
            sim.ResetMeasurement();
            int[] receivedBefore = members.Select(m => sim[m].Received.Count).ToArray();
            sim.Install(members);
            sim.Run();
            Checks.AllAgree(sim, $"join n={n}");

            // Broadcasts: the joiner's announcement and the sponsor's blinded keys (in two parts once its path is long
            // enough, if configured so), nothing the size of a tree.
            List<Envelope> broadcasts = sim.Broadcasts.Select(Parse).ToList();
            Assert.Equal(broadcasts.Count == 3 ? [1, 4, 2] : new byte[] { 1, 2 }, broadcasts.Select(b => b.Type));
            twoPart += broadcasts.Count == 3 ? 1 : 0;
            Assert.Equal(joiner, broadcasts[0].Sender);
            Assert.NotEqual(joiner, broadcasts[1].Sender);
            Assert.All(broadcasts.Skip(1), b => Assert.Equal(broadcasts[1].Sender, b.Sender));
            List<byte[]> toJoiner = sim[joiner].Received.Where(w => Parse(w).Recipient == joiner).ToList();
            Envelope tree = Parse(Assert.Single(toJoiner));
            Assert.True(tree.Payload.Length > (n - 1) * 32, $"n={n}: the joiner's tree has {tree.Payload.Length} bytes");
            int bound = Math.Max(600, tree.Payload.Length / 2);
            Assert.All(sim.Broadcasts, b => Assert.True(b.Length < bound, $"n={n}: a {b.Length}-byte broadcast, the tree has {tree.Payload.Length}"));

            // The tree of the other n-1 members reached the joiner, and only the joiner.
            for (int i = 0; i < n - 1; i++)
            {
                Assert.Equal(broadcasts.Count, sim[members[i]].Received.Count - receivedBefore[i]);
            }

            // A host that delivers unicasts to everyone (the secure layer) costs the others a header read.
            SimulatedMember other = sim[members[0]];
            byte[] state = other.Module().StateDigest();
            Assert.Equal(Rejection.NotForMe, other.Module.OnMessage(toJoiner[0]).Rejection);
            Assert.Equal(state, other.Module().StateDigest());
        }

        Assert.True(splitFrom == 0 ? twoPart == 0 : twoPart > 0, $"{twoPart} joins published in two parts");
    }

    /// <summary>
    /// Every member of a join is keyed by the same delivery, the joiner too, however late the host delivers the
    /// joiner's copy of the tree (<see cref="Simulator.HoldUnicastsBehindOthers"/>: behind every other member's
    /// broadcast, never behind its sender's own later messages). Found end to end (SecureChurnTests, TGDH: "m1: other
    /// epoch 6"; SecureRapidChurnTests, TGDH seed 3): the tree came from a member other than the sponsor, after the
    /// sponsor's broadcast had keyed the others and after messages they sealed under the new key, which the joiner,
    /// still without it, refused as other-epoch. The sponsor now sends the tree ahead of its broadcast.
    /// </summary>
    [Fact]
    public void Every_member_of_a_join_is_keyed_by_the_same_delivery_even_with_the_tree_held_back()
    {
        using var sim = new Simulator(KeyAgreementProtocol.Tgdh, DhGroup.Ristretto255, 24) { HoldUnicastsBehindOthers = true };
        List<string> members = [sim.Create().Name];
        sim.Install(members);
        sim.Run();
        int singleJoins = 0;
        for (int n = 2; n <= Members; n++)
        {
            string joiner = sim.Create().Name;
            members.Add(joiner);
            int[] keysBefore = [.. members.Select(m => sim[m].Keys.Count)];
            int receivedBefore = sim[joiner].Received.Count;
            sim.Install(members);
            for (int delivery = 1; sim.Queued > 0; delivery++)
            {
                sim.Run(1);
                string[] keyed = [.. members.Where((m, i) => sim[m].Keys.Count > keysBefore[i])];
                Assert.True(keyed.Length == 0 || keyed.Length == members.Count,
                    $"n={n}: after delivery {delivery}, {keyed.Length} of {members.Count} members keyed; the joiner {(keyed.Contains(joiner) ? "is" : "is not")} among them");
            }

            Checks.AllAgree(sim, $"join n={n} with the tree held back");
            singleJoins += sim[joiner].Received.Skip(receivedBefore).Any(w => Parse(w).Recipient == joiner) ? 1 : 0;
        }

        Assert.Equal(Members - 2, singleJoins); // every join but the first (a group of one) sent the tree by unicast
    }

    [Fact]
    public void A_joiner_that_gets_the_sponsors_keys_before_its_tree_agrees_with_the_group()
    {
        using var sim = new Simulator(KeyAgreementProtocol.Tgdh, DhGroup.Ristretto255, 22) { HoldUnicasts = true };
        List<string> members = [sim.Create().Name];
        sim.Install(members);
        sim.Run();
        for (int n = 2; n <= 12; n++)
        {
            members.Add(sim.Create().Name);
            sim.ResetMeasurement();
            sim.Install(members);
            sim.Run();
            Checks.AllAgree(sim, $"join n={n} with the tree delivered last");
        }

        // Leaves and a merge of two groups still work with unicasts delivered last.
        members.RemoveAt(3);
        sim.Install(members);
        sim.Run();
        Checks.AllAgree(sim, "leave");
        List<string> other = [sim.Create().Name, sim.Create().Name, sim.Create().Name];
        sim.Install(other);
        sim.Run();
        sim.Install([.. members, .. other]);
        sim.Run();
        Checks.AllAgree(sim, "merge");
    }

    [Fact]
    public void A_tree_sent_to_a_member_that_is_not_a_lone_joiner_is_refused_and_changes_nothing()
    {
        using var sim = new Simulator(KeyAgreementProtocol.Tgdh, DhGroup.Ristretto255, 23);
        List<string> members = Enumerable.Range(0, 5).Select(_ => sim.Create().Name).ToList();
        sim.Install(members.Take(4));
        sim.Run();
        sim.Install(members);
        SimulatedMember victim = sim[members[0]];
        byte[] before = victim.Module().StateDigest();
        ulong viewId = victim.Module().CurrentEpoch!.Value.ViewId + 1;

        // A well-signed unicast announcement of a one-leaf tree from the joiner to an existing member.
        byte[] leaf = new byte[] { 1, 0, 1, 0, 5 }.Concat(System.Text.Encoding.UTF8.GetBytes(members[4])).Concat(new byte[] { 0 }).ToArray();
        var envelope = new Envelope
        {
            Protocol = KeyAgreementProtocol.Tgdh,
            Type = 1,
            ViewId = viewId,
            Run = 0,
            Group = "sim-group",
            Sender = members[4],
            Recipient = members[0],
            Payload = leaf,
        };
        StepResult result = victim.Module.OnMessage(envelope.Seal(sim[members[4]].Identity, new OperationCounter()));
        Assert.Equal(Rejection.Invalid, result.Rejection);
        Assert.Equal(before, victim.Module().StateDigest());

        sim.Run();
        Checks.AllAgree(sim, "join after the refused tree");
    }

    private static Envelope Parse(byte[] wire)
    {
        Assert.True(Envelope.TryParse(wire, out Envelope envelope));
        return envelope;
    }
}
