using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Crypto.Tests.KeyAgreement;

/// <summary>The TGDH tree encoding (what a joiner receives) and the once-per-run check of received blinded keys.</summary>
public sealed class TgdhTreeTests
{
    [Fact]
    public void A_tree_encodes_and_reads_back_node_for_node()
    {
        var random = new Random(5);
        TreeNode root = TgdhTree.Leaf("m0");
        root.Bk = RandomBytes(random);
        for (int i = 1; i < 37; i++)
        {
            // Multi-byte UTF-8 names: the encoder sizes names in bytes, not characters.
            TreeNode leaf = TgdhTree.Leaf(i % 5 == 0 ? $"mé{i}ü€" : $"m{i}");
            leaf.Bk = RandomBytes(random);
            root = TgdhTree.Insert(root, leaf);
            root.Parent = null;
        }

        foreach (TreeNode n in TgdhTree.Nodes(root).Where(n => !n.IsLeaf && n.Parent is not null && random.Next(3) > 0))
        {
            n.Bk = RandomBytes(random);
        }

        byte[] encoded = TgdhTree.Encode(root);
        var reader = new PayloadReader(encoded);
        var collected = new List<TreeNode>();
        Assert.True(TgdhTree.TryRead(ref reader, 32, 1000, out TreeNode? read, collected));
        Assert.True(reader.AtEnd);
        Assert.Equal(Describe(root), Describe(read!));
        Assert.Equal(TgdhTree.Leaves(read!), collected);

        // Written in place, the same bytes.
        var inPlace = new byte[TgdhTree.EncodedLength(root)];
        TgdhTree.Encode(root, inPlace);
        Assert.Equal(encoded, inPlace);

        // A tree read from the wire encodes to the same bytes, and the original matches its own encoding.
        Assert.Equal(encoded, TgdhTree.Encode(read!));
        Assert.Equal(encoded, TgdhTree.Encode(TgdhTree.Clone(read!)));
        var matching = new PayloadReader(encoded);
        Assert.True(TgdhTree.Matches(root, ref matching, 32) && matching.AtEnd);

        // Cut short anywhere, or with a node budget below the node count, it is refused.
        foreach (int cut in new[] { 0, 1, encoded.Length / 2, encoded.Length - 1 })
        {
            var shortReader = new PayloadReader(encoded.AsSpan(0, cut));
            Assert.False(TgdhTree.TryRead(ref shortReader, 32, 1000, out _), $"cut at {cut}");
        }

        var tight = new PayloadReader(encoded);
        Assert.False(TgdhTree.TryRead(ref tight, 32, TgdhTree.Nodes(root).Count() - 1, out _));
    }

    [Fact]
    public void A_tree_read_against_the_view_takes_its_names_and_positions_and_refuses_a_stranger()
    {
        var random = new Random(7);
        string[] names = ["a", "bé€", "c", "d", "e"];
        TreeNode root = TgdhTree.Leaf(names[0]);
        foreach (string name in names.Skip(1))
        {
            root = TgdhTree.Insert(root, TgdhTree.Leaf(name));
            root.Parent = null;
        }

        foreach (TreeNode n in TgdhTree.Nodes(root).Where(n => n.Parent is not null))
        {
            n.Bk = RandomBytes(random);
        }

        byte[] encoded = TgdhTree.Encode(root);

        // The view holds its own string instances (not interned literals) in another order.
        var view = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string name in names.Reverse())
        {
            view[new string(name.AsSpan())] = view.Count;
        }

        var reader = new PayloadReader(encoded);
        var leaves = new List<TreeNode>();
        var positions = new List<int>();
        Assert.True(TgdhTree.TryRead(ref reader, 32, 100, view, out TreeNode? read, leaves, positions));
        Assert.True(reader.AtEnd);
        Assert.Equal(Describe(root), Describe(read!));
        Assert.Equal(leaves.Select(l => view[l.Member!]), positions);
        Assert.All(leaves, l => Assert.Same(view.Keys.Single(k => k == l.Member), l.Member));

        // A leaf that is not in the view fails the read.
        view.Remove("c");
        var strangerReader = new PayloadReader(encoded);
        Assert.False(TgdhTree.TryRead(ref strangerReader, 32, 100, view, out _, null, null));
    }

    [Fact]
    public void A_received_blinded_key_is_checked_for_group_membership_once_per_run()
    {
        // MODP: the membership check is a full-length exponentiation, so checking a key on receipt and again when it
        // is used as a base doubled the cost of a member's path.
        var group = new ValidationLog(DhGroup.Modp512Paper);
        using var sim = new Simulator(KeyAgreementProtocol.Tgdh, group, 31);
        List<string> members = Enumerable.Range(0, 16).Select(_ => sim.Create().Name).ToList();
        sim.DealTgdh(members);
        members.RemoveAt(members.Count / 2);
        foreach (string? joiner in new[] { null, sim.Create().Name })
        {
            if (joiner is not null)
            {
                members.Add(joiner);
            }

            group.Checked.Clear();
            sim.ResetMeasurement();
            sim.Install(members);
            sim.Run();
            Checks.AllAgree(sim, joiner is null ? "leave" : "join");
            Assert.NotEmpty(group.Checked);
            Assert.All(group.Checked, c => Assert.True(c.Value == 1, $"an element checked {c.Value} times by one member in one run"));
        }
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[32];
        random.NextBytes(bytes);
        return bytes;
    }

    private static List<string> Describe(TreeNode root) =>
        TgdhTree.Nodes(root).Select(n => $"{n.Member ?? "*"}:{(n.Bk is null ? "-" : Convert.ToHexString(n.Bk))}").ToList();

    /// <summary>A group that records each membership check by member (its counter) and element.</summary>
    private sealed class ValidationLog(DhGroup inner) : DhGroup
    {
        public Dictionary<(OperationCounter, string), int> Checked { get; } = [];

        public override string Name => inner.Name;

        public override int ElementLength => inner.ElementLength;

        public override int ScalarLength => inner.ScalarLength;

        internal override byte[] Generator => inner.Generator;

        internal override bool ExpValidatesInput => inner.ExpValidatesInput;

        internal override byte[] RandomScalar(IRandomSource random) => inner.RandomScalar(random);

        internal override byte[] ScalarFromWide(ReadOnlySpan<byte> wide) => inner.ScalarFromWide(wide);

        internal override byte[] Exp(ReadOnlySpan<byte> element, ReadOnlySpan<byte> scalar, OperationCounter counter) => inner.Exp(element, scalar, counter);

        internal override byte[] ExpBase(ReadOnlySpan<byte> scalar, OperationCounter counter) => inner.ExpBase(scalar, counter);

        internal override byte[] Invert(ReadOnlySpan<byte> scalar, OperationCounter counter) => inner.Invert(scalar, counter);

        internal override byte[] Multiply(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => inner.Multiply(a, b);

        internal override bool IsValidScalar(ReadOnlySpan<byte> scalar) => inner.IsValidScalar(scalar);

        internal override bool IsValidElement(ReadOnlySpan<byte> element, OperationCounter counter)
        {
            (OperationCounter, string) key = (counter, Convert.ToHexString(element));
            Checked[key] = Checked.GetValueOrDefault(key) + 1;
            return inner.IsValidElement(element, counter);
        }
    }
}
