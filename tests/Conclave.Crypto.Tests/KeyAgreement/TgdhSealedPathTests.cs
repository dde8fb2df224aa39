using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Crypto.Tests.KeyAgreement;

/// <summary>
/// TGDH's sealed path (docs/key-agreement.md §6.3): a sponsor's publication carries, for each node of its path, the keys
/// above it sealed under that node's key, so the members whose paths meet the sponsor's there open a box instead of
/// recomputing the same keys. The box must open only with that node key and in its own context.
/// </summary>
public sealed class TgdhSealedPathTests
{
    private static readonly byte[] Context = "view 7 run 0 sponsor step 1"u8.ToArray();

    [Fact]
    public void A_box_opens_only_with_its_node_key_and_context()
    {
        DhGroup dh = DhGroup.Ristretto255;
        var random = new SeededRandomSource(5);
        byte[] unlock = dh.RandomScalar(random);
        List<byte[]> keys = [dh.RandomScalar(random), dh.RandomScalar(random), dh.RandomScalar(random)];
        byte[] box = TgdhPathSeal.Seal(unlock, Context, keys);
        Assert.Equal((3 * dh.ScalarLength) + TgdhPathSeal.TagLength, box.Length);
        Assert.DoesNotContain(keys, k => box.AsSpan().IndexOf(k) >= 0);

        Assert.True(TgdhPathSeal.TryOpen(unlock, Context, box, 3, dh.ScalarLength, out List<byte[]> opened));
        Assert.Equal(keys, opened);

        Assert.False(TgdhPathSeal.TryOpen(dh.RandomScalar(random), Context, box, 3, dh.ScalarLength, out _), "another node's key");
        Assert.False(TgdhPathSeal.TryOpen(unlock, "view 7 run 0 sponsor step 2"u8, box, 3, dh.ScalarLength, out _), "another context");
        Assert.False(TgdhPathSeal.TryOpen(unlock, Context, box, 2, dh.ScalarLength, out _), "another count");
        byte[] tampered = (byte[])box.Clone();
        tampered[5] ^= 1;
        Assert.False(TgdhPathSeal.TryOpen(unlock, Context, tampered, 3, dh.ScalarLength, out List<byte[]> none), "a flipped bit");
        Assert.Empty(none);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(300)]
    public void The_joiner_computes_two_nodes_of_its_path_and_opens_the_rest(int n)
    {
        using var sim = new Simulator(KeyAgreementProtocol.Tgdh, DhGroup.Ristretto255, n);
        List<string> members = Enumerable.Range(0, n).Select(_ => sim.Create().Name).ToList();
        string joiner = members[^1];
        sim.DealTgdh(members[..^1]);
        sim.Install([joiner]);
        sim.Run();
        sim.ResetMeasurement();
        long before = sim[joiner].Counter.Exponentiations;
        sim.Install(members);
        sim.Run();
        Checks.AllAgree(sim, $"join n={n}");

        // The joiner computes the node where its path meets the sponsor's, opens the keys the sponsor sealed under it,
        // and computes the rest of its path (what the sponsor's first part did not hold) and the root itself: at
        // least two exponentiations fewer than its whole path.
        int depth = Depth(sim, joiner);
        long exps = sim[joiner].Counter.Exponentiations - before;
        Assert.True(exps <= depth - 2, $"n={n}: the joiner did {exps} exponentiations for a path of {depth}");
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(6, 6)]
    public void Every_member_of_a_leave_computes_at_most_its_meeting_node_and_what_the_boxes_leave_out(int splitFrom, int bound)
    {
        const int n = 256;
        using var sim = new Simulator(KeyAgreementProtocol.Tgdh, DhGroup.Ristretto255, 9) { TgdhSplitFrom = splitFrom };
        List<string> members = Enumerable.Range(0, n).Select(_ => sim.Create().Name).ToList();
        sim.DealTgdh(members);
        members.RemoveAt(n / 3);
        long[] before = members.Select(m => sim[m].Counter.Exponentiations).ToArray();
        sim.ResetMeasurement();
        sim.Install(members);
        sim.Run();
        Checks.AllAgree(sim, "leave n=256");

        // Without boxes the members next to the sponsor recompute its whole path (8 levels here); with them no one
        // but the sponsor computes more than its meeting node and the root (in one part), or its meeting node, the part
        // its first box could not hold, and the root (in two parts).
        string sponsor = Envelope(sim.Broadcasts[0]).Sender;
        long most = members.Where(m => m != sponsor).Select((m, i) => sim[m].Counter.Exponentiations - before[members.IndexOf(m)]).Max();
        Assert.True(most <= bound, $"a member did {most} exponentiations");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    public void Boxes_that_do_not_open_are_ignored_and_the_keys_computed(int splitFrom)
    {
        const int n = 100;
        using var sim = new Simulator(KeyAgreementProtocol.Tgdh, DhGroup.Ristretto255, 11) { TgdhSplitFrom = splitFrom };
        List<string> members = Enumerable.Range(0, n).Select(_ => sim.Create().Name).ToList();
        sim.DealTgdh(members);
        members.RemoveAt(n / 2);
        sim.ResetMeasurement();
        sim.Install(members);

        // The sponsor's publication (its first part if in two), signed by the sponsor but with every box's last byte
        // flipped (a sponsor that seals garbage): every member must still reach the same key, computing what the boxes
        // would have given.
        Envelope first = Envelope(Assert.Single(sim.Broadcasts));
        Assert.Equal(1, sim.DropQueued());
        byte[] payload = (byte[])first.Payload.Clone();
        int at = 4 + (((payload[0] << 8) | payload[1]) * (2 + ((payload[2] << 8) | payload[3]))) + (first.Type == 4 ? 2 : 0);
        Assert.Equal(splitFrom == 0 ? 2 : 4, first.Type);
        int boxes = payload[at++];
        Assert.True(boxes >= 2, $"{boxes} boxes");
        for (int i = 0; i < boxes; i++)
        {
            int length = (payload[at + 4] << 8) | payload[at + 5];
            at += 6 + length;
            payload[at - 1] ^= 0x80;
        }

        Assert.Equal(payload.Length, at);
        byte[] tampered = new Envelope
        {
            Protocol = first.Protocol,
            Type = first.Type,
            ViewId = first.ViewId,
            Run = first.Run,
            Group = first.Group,
            Sender = first.Sender,
            Recipient = null,
            Payload = payload,
        }.Seal(sim[first.Sender].Identity, new OperationCounter());
        sim.InjectBroadcast(first.Sender, tampered);
        sim.Run();
        Checks.AllAgree(sim, "leave with boxes that do not open");
    }

    private static int Depth(Simulator sim, string member)
    {
        TreeNode root = ((TgdhModule)sim[member].Module).CurrentTreeForTests!;
        int depth = 0;
        for (TreeNode? n = TgdhTree.Leaves(root).Single(l => l.Member == member).Parent; n is not null; n = n.Parent)
        {
            depth++;
        }

        return depth;
    }

    private static Envelope Envelope(byte[] wire)
    {
        Assert.True(Conclave.Crypto.KeyAgreement.Envelope.TryParse(wire, out Envelope envelope));
        return envelope;
    }
}
