using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace Conclave.Crypto.KeyAgreement;

/// <summary>A node of a TGDH key tree: a member's leaf or an internal node with two children.</summary>
internal sealed class TreeNode
{
    public TreeNode? Left { get; set; }

    public TreeNode? Right { get; set; }

    public TreeNode? Parent { get; set; }

    /// <summary>The member at a leaf; null for internal nodes.</summary>
    public string? Member { get; init; }

    /// <summary>The member's name in UTF-8, as encoded in trees (made on first use: a received tree's leaves rarely need it).</summary>
    public byte[] MemberUtf8 => _memberUtf8 ??= Encoding.UTF8.GetBytes(Member!);

    private byte[]? _memberUtf8;

    /// <summary>The cached UTF-8 name, if made already (a clone shares it rather than making its own).</summary>
    public byte[]? MemberUtf8IfKnown => _memberUtf8;

    public void SetMemberUtf8(byte[]? utf8) => _memberUtf8 = utf8;

    /// <summary>The blinded key g^k, when it is public in the current run.</summary>
    public byte[]? Bk { get; set; }

    /// <summary>The node key k (a scalar): known only on this member's own path.</summary>
    public byte[]? Key { get; set; }

    /// <summary>The DH element a node key was mapped from (kept for the root only: it is the group secret).</summary>
    public byte[]? Element { get; set; }

    /// <summary>Scratch space for tree algorithms (subtree height during an insertion).</summary>
    public int Scratch { get; set; }

    public bool IsLeaf => Member is not null;

    public TreeNode Sibling => Parent!.Left == this ? Parent.Right! : Parent.Left!;
}

// Methods carry [MethodImpl(AggressiveOptimization)]: a membership event runs most of this code once or a few
// times, so under tiered JIT it would stay in the unoptimised first tier for a member's first ~30 events
// (measured at n = 1000: TGDH join 2.1-2.3 ms tiered, 1.9-2.0 ms optimised; docs/benchmarks.md).
/// <summary>Pure operations on TGDH key trees: copy, prune, insert, serialise. No cryptography but erasure.</summary>
/// <remarks>
/// The whole-tree walks run once per membership event, too rarely for tiered compilation to promote them from
/// unoptimised code before they matter, yet on a thousand-member tree they are on the event's critical path:
/// they are compiled fully optimised from the start (<see cref="MethodImplOptions.AggressiveOptimization"/>).
/// </remarks>
internal static class TgdhTree
{
    private const int MaxDepth = 4096;

    public static TreeNode Leaf(string member) => new() { Member = member };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static TreeNode Join(TreeNode left, TreeNode right)
    {
        var node = new TreeNode { Left = left, Right = right };
        left.Parent = node;
        right.Parent = node;
        return node;
    }

    /// <summary>Deep copy, including this member's private keys (the copy owns new arrays).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static TreeNode Clone(TreeNode node)
    {
        var copy = new TreeNode
        {
            Member = node.Member,
            Bk = node.Bk,
            Key = (byte[]?)node.Key?.Clone(),
            Element = (byte[]?)node.Element?.Clone(),
        };
        if (node.IsLeaf)
        {
            copy.SetMemberUtf8(node.MemberUtf8IfKnown);
        }
        else
        {
            copy.Left = Clone(node.Left!);
            copy.Right = Clone(node.Right!);
            copy.Left.Parent = copy;
            copy.Right.Parent = copy;
        }

        return copy;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void EraseSecrets(TreeNode node)
    {
        var stack = new Stack<TreeNode>();
        stack.Push(node);
        while (stack.Count > 0)
        {
            TreeNode n = stack.Pop();
            if (n.Key is not null)
            {
                CryptographicOperations.ZeroMemory(n.Key);
            }

            if (n.Element is not null)
            {
                CryptographicOperations.ZeroMemory(n.Element);
            }

            n.Key = null;
            n.Element = null;
            if (!n.IsLeaf)
            {
                stack.Push(n.Left!);
                stack.Push(n.Right!);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static List<TreeNode> Leaves(TreeNode root)
    {
        var leaves = new List<TreeNode>();
        var stack = new Stack<TreeNode>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            TreeNode n = stack.Pop();
            if (n.IsLeaf)
            {
                leaves.Add(n);
            }
            else
            {
                stack.Push(n.Right!);
                stack.Push(n.Left!);
            }
        }

        return leaves;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static IEnumerable<TreeNode> Nodes(TreeNode root)
    {
        var stack = new Stack<TreeNode>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            TreeNode n = stack.Pop();
            yield return n;
            if (!n.IsLeaf)
            {
                stack.Push(n.Right!);
                stack.Push(n.Left!);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static TreeNode Rightmost(TreeNode node)
    {
        while (!node.IsLeaf)
        {
            node = node.Right!;
        }

        return node;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static TreeNode Leftmost(TreeNode node)
    {
        while (!node.IsLeaf)
        {
            node = node.Left!;
        }

        return node;
    }

    public static int Height(TreeNode node) => node.IsLeaf ? 0 : 1 + Math.Max(Height(node.Left!), Height(node.Right!));

    /// <summary>Marks a node and all its ancestors as changed: no public blinded key, no node key (a leaf keeps its share).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Invalidate(TreeNode? node)
    {
        for (; node is not null; node = node.Parent)
        {
            node.Bk = null;
            if (!node.IsLeaf)
            {
                Forget(node);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forget(TreeNode node)
    {
        if (node.Key is not null)
        {
            CryptographicOperations.ZeroMemory(node.Key);
        }

        if (node.Element is not null)
        {
            CryptographicOperations.ZeroMemory(node.Element);
        }

        node.Key = null;
        node.Element = null;
    }

    /// <summary>Removes <paramref name="gone"/> (leaves of this tree): a removed leaf's sibling takes its parent's place; the ancestors become invalid.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static TreeNode? Prune(TreeNode root, IEnumerable<TreeNode> gone)
    {
        foreach (TreeNode leaf in gone)
        {
            Forget(leaf);
            TreeNode? parent = leaf.Parent;
            if (parent is null)
            {
                return null;
            }

            TreeNode sibling = leaf.Sibling;
            TreeNode? grand = parent.Parent;
            sibling.Parent = grand;
            Forget(parent);
            if (grand is null)
            {
                root = sibling;
            }
            else
            {
                if (grand.Left == parent)
                {
                    grand.Left = sibling;
                }
                else
                {
                    grand.Right = sibling;
                }

                Invalidate(grand);
            }
        }

        return root;
    }

    /// <summary>
    /// Inserts <paramref name="subtree"/> at the shallowest, rightmost node where it does not increase the height
    /// (at the root if there is none), as the left child of a new node whose right child is the node it displaces:
    /// the new node's rightmost leaf, its sponsor, is then a member of the tree inserted into (see
    /// TgdhModule.StartSingleJoin). The new internal node and its ancestors are invalid. Returns the new root.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static TreeNode Insert(TreeNode root, TreeNode subtree) => InsertAt(root, subtree, InsertionTarget(root, Height(subtree)));

    /// <summary>As <see cref="Insert"/>, at a <paramref name="target"/> already found by <see cref="InsertionTarget"/> on this very tree.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static TreeNode InsertAt(TreeNode root, TreeNode subtree, TreeNode target)
    {
        TreeNode? parent = target.Parent;
        TreeNode joined = Join(subtree, target);
        joined.Parent = parent;
        if (parent is null)
        {
            return joined;
        }

        if (parent.Left == target)
        {
            parent.Left = joined;
        }
        else
        {
            parent.Right = joined;
        }

        Invalidate(joined);
        return root;
    }

    /// <summary>The node <see cref="Insert"/> would displace for a subtree of height <paramref name="subHeight"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static TreeNode InsertionTarget(TreeNode root, int subHeight)
    {
        int height = FillHeights(root);
        TreeNode target = root;

        // Breadth-first, level by level, left to right: the last fitting node of the first level that has one.
        var level = new List<TreeNode> { root };
        var next = new List<TreeNode>();
        for (int depth = 0; level.Count > 0; depth++)
        {
            TreeNode? fit = null;
            for (int i = level.Count - 1; i >= 0 && fit is null; i--)
            {
                fit = depth + 1 + Math.Max(level[i].Scratch, subHeight) <= height ? level[i] : null;
            }

            if (fit is not null)
            {
                target = fit;
                break;
            }

            next.Clear();
            foreach (TreeNode v in level)
            {
                if (!v.IsLeaf)
                {
                    next.Add(v.Left!);
                    next.Add(v.Right!);
                }
            }

            (level, next) = (next, level);
        }

        return target;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int FillHeights(TreeNode node)
    {
        int h = node.IsLeaf ? 0 : 1 + Math.Max(FillHeights(node.Left!), FillHeights(node.Right!));
        node.Scratch = h;
        return h;
    }

    /// <summary>True if <paramref name="reader"/> holds exactly <see cref="Encode(TreeNode)"/>'s encoding of <paramref name="node"/> (no allocation per node).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool Matches(TreeNode node, ref PayloadReader reader, int elementLength)
    {
        if (!reader.U8(out int kind) || kind != (node.IsLeaf ? 1 : 0))
        {
            return false;
        }

        if (node.IsLeaf && (!reader.U16(out int count) || count != 1 || !reader.U16(out int length)
            || length != node.MemberUtf8.Length || !reader.BytesEqual(node.MemberUtf8)))
        {
            return false;
        }

        if (!reader.U8(out int hasBk) || hasBk != (node.Bk is null ? 0 : 1)
            || (node.Bk is not null && !reader.BytesEqual(node.Bk)))
        {
            return false;
        }

        return node.IsLeaf || (Matches(node.Left!, ref reader, elementLength) && Matches(node.Right!, ref reader, elementLength));
    }

    /// <summary>
    /// Encodes a tree, preorder: u8 leaf?; leaf: u16-counted name list of one name; u8 has-bk; bk. A joiner's copy of
    /// a thousand-member tree is about 77 KB and its encoding is on the join's critical path: one walk sizes it, a
    /// second walk writes each name and blinded key straight into place (for the joiner's copy, into the signed message).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static byte[] Encode(TreeNode root)
    {
        var buffer = new byte[EncodedLength(root)];
        Encode(root, buffer);
        return buffer;
    }

    /// <summary>The length of <see cref="Encode(TreeNode)"/>'s result.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int EncodedLength(TreeNode root)
    {
        var stack = new Stack<TreeNode>();
        int size = 0;
        stack.Push(root);
        while (stack.Count > 0)
        {
            TreeNode n = stack.Pop();
            size += 2 + (n.Bk?.Length ?? 0);
            if (n.IsLeaf)
            {
                size += 4 + (n.MemberUtf8IfKnown?.Length ?? Encoding.UTF8.GetByteCount(n.Member!));
            }
            else
            {
                stack.Push(n.Right!);
                stack.Push(n.Left!);
            }
        }

        return size;
    }

    /// <summary>Writes <see cref="Encode(TreeNode)"/>'s bytes into <paramref name="span"/>, which has exactly <see cref="EncodedLength"/> bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Encode(TreeNode root, Span<byte> span)
    {
        var stack = new Stack<TreeNode>();
        int at = 0;
        stack.Push(root);
        while (stack.Count > 0)
        {
            TreeNode n = stack.Pop();
            span[at++] = (byte)(n.IsLeaf ? 1 : 0);
            if (n.IsLeaf)
            {
                BinaryPrimitives.WriteUInt16BigEndian(span[at..], 1);
                int length;
                if (n.MemberUtf8IfKnown is { } utf8)
                {
                    utf8.CopyTo(span[(at + 4)..]);
                    length = utf8.Length;
                }
                else
                {
                    length = Encoding.UTF8.GetBytes(n.Member!, span[(at + 4)..]);
                }

                BinaryPrimitives.WriteUInt16BigEndian(span[(at + 2)..], checked((ushort)length));
                at += 4 + length;
            }

            span[at++] = (byte)(n.Bk is null ? 0 : 1);
            if (n.Bk is not null)
            {
                n.Bk.CopyTo(span[at..]);
                at += n.Bk.Length;
            }

            if (!n.IsLeaf)
            {
                stack.Push(n.Right!);
                stack.Push(n.Left!);
            }
        }

        if (at != span.Length)
        {
            throw new ArgumentException("The destination does not have the tree's encoded length.", nameof(span));
        }
    }

    /// <summary>Reads <see cref="Encode(TreeNode)"/>'s bytes; <paramref name="leaves"/>, if given, receives the leaves left to right (no second walk).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryRead(ref PayloadReader reader, int elementLength, int maxNodes, out TreeNode? node, List<TreeNode>? leaves = null) =>
        TryRead(ref reader, elementLength, maxNodes, null, out node, leaves, null);

    /// <summary>
    /// As above; with <paramref name="members"/>, every leaf must name one of its keys (else the read fails), takes that
    /// key's string rather than a new one, and its value goes to <paramref name="positions"/> (in leaf order): a joiner
    /// reads a thousand leaves on its way to its key, and decoding each into a new string, then hashing it again to
    /// find its place in the view, cost a thousand allocations and a second lookup each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryRead(
        ref PayloadReader reader, int elementLength, int maxNodes, Dictionary<string, int>? members, out TreeNode? node, List<TreeNode>? leaves, List<int>? positions)
    {
        int budget = maxNodes;
        var names = new NameResolver(members, positions);
        return TryRead(ref reader, elementLength, ref budget, 0, ref names, out node, leaves);
    }

    /// <summary>Turns a leaf's encoded name into its member string: decoded, or looked up among known members.</summary>
    private readonly ref struct NameResolver(Dictionary<string, int>? members, List<int>? positions)
    {
        private static readonly UTF8Encoding Strict = new(false, true);
        private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup =
            members is null ? default : members.GetAlternateLookup<ReadOnlySpan<char>>();

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public bool TryRead(ref PayloadReader reader, out string member)
        {
            member = string.Empty;
            if (members is null)
            {
                return reader.Name(out member);
            }

            if (!reader.NameBytes(out ReadOnlySpan<byte> utf8))
            {
                return false;
            }

            Span<char> chars = utf8.Length <= 256 ? stackalloc char[utf8.Length] : new char[utf8.Length];
            int length;
            try
            {
                length = Strict.GetChars(utf8, chars);
            }
            catch (DecoderFallbackException)
            {
                return false;
            }

            if (!_lookup.TryGetValue(chars[..length], out string? known, out int position))
            {
                return false;
            }

            member = known;
            positions?.Add(position);
            return true;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryRead(ref PayloadReader reader, int elementLength, ref int budget, int depth, ref NameResolver names, out TreeNode? node, List<TreeNode>? leaves)
    {
        node = null;
        if (--budget < 0 || depth > MaxDepth || !reader.U8(out int kind) || kind > 1)
        {
            return false;
        }

        string? member = null;
        if (kind == 1)
        {
            if (!names.TryRead(ref reader, out string name))
            {
                return false;
            }

            member = name;
        }

        if (!reader.U8(out int hasBk) || hasBk > 1)
        {
            return false;
        }

        byte[]? bk = null;
        if (hasBk == 1 && !reader.Bytes(elementLength, out bk))
        {
            return false;
        }

        if (kind == 1)
        {
            node = new TreeNode { Member = member, Bk = bk };
            leaves?.Add(node);
            return true;
        }

        if (!TryRead(ref reader, elementLength, ref budget, depth + 1, ref names, out TreeNode? left, leaves)
            || !TryRead(ref reader, elementLength, ref budget, depth + 1, ref names, out TreeNode? right, leaves))
        {
            return false;
        }

        node = Join(left!, right!);
        node.Bk = bk;
        return true;
    }
}
