using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Conclave.Crypto.KeyAgreement;

// Methods carry [MethodImpl(AggressiveOptimization)]: a membership event runs most of this code once or a few
// times, so under tiered JIT it would stay in the unoptimised first tier for a member's first ~30 events
// (measured at n = 1000: TGDH join 2.1-2.3 ms tiered, 1.9-2.0 ms optimised; docs/benchmarks.md).
/// <summary>
/// Tree-based group Diffie–Hellman (Kim, Perrig, Tsudik; key-agreement.md §1b). Leaves hold members' shares, an
/// internal node's key is H(g^(k_left·k_right)) and its blinded key g^k is public; the root's DH value is the group
/// secret. Costs grow with the tree height, not the group size.
/// </summary>
/// <remarks>
/// One procedure handles every event. (1) Each member prunes leavers from its last tree; if the view has members
/// outside its tree, the rightmost member of each component announces its tree and all members merge the announced
/// trees in a deterministic order (larger first), inserting each at the shallowest rightmost place. (2) Every
/// lowest node whose blinded key is missing gets a sponsor, its rightmost leaf, which refreshes its share.
/// (3) Rounds: a member that is the rightmost leaf under the lowest missing node on its path computes its path and
/// broadcasts the new blinded keys; everyone else computes what it can. The run ends, at every member on the same
/// broadcast, when every blinded key is public and the root key is known. A member may also refresh its own leaf at
/// any time (one broadcast): post-compromise healing.
/// </remarks>
internal sealed class TgdhModule : ModuleBase
{
    private const byte Announce = 1;
    private const byte BlindedKeys = 2;
    private const byte RefreshPath = 3;
    private const byte LowerBlindedKeys = 4;

    // A sponsor whose path has this many blinded keys to publish or more sends them in two parts (see SplitPoint):
    // never by default. With sealed paths a member whose path meets the sponsor's takes the keys above the meeting
    // node from a box, so the longest chain is the sponsor's whole path and two exponentiations either way; a second
    // part only added a hop (one signature, one echo step, one agreed-delivery round). Tests still exercise it.
    private readonly int _splitFrom;
    private const string NodeKeyLabel = "conclave tgdh node v1";

    private TreeNode? _tree;

    // The leaves of _tree by member: finding a sender's or this member's leaf must not cost a walk over a
    // thousand-member tree on every message.
    private readonly Dictionary<string, TreeNode> _leafOf = new(StringComparer.Ordinal);

    // The run in progress.
    private Phase _phase;
    private TreeNode? _work;
    private readonly List<AnnouncedTree> _announced = [];
    private readonly HashSet<TreeNode> _published = [];
    private TreeNode? _pendingRefresh;
    private TreeNode? _myLeaf;
    private bool _poisoned;
    private bool[] _mine = [];
    private bool[] _covered = [];
    private int _coveredCount;
    private int _ownCount;
    private bool _ownAnnounced;

    // Non-root nodes of _work still missing their blinded key: the run is complete when none is left.
    private int _missingCount;

    // Nodes whose blinded keys a member promised in the first part of a two-part publication, with the promiser:
    // no one else publishes them, and only the promiser's second part may fill them.
    private readonly Dictionary<TreeNode, string> _claims = [];

    // This member's own promise (bottom-up): the upper part of its path, published once its first part is back.
    private readonly List<TreeNode> _promised = [];
    private bool _promiseDue;

    // Single join, members of the tree: the node the joiner will displace, found at view time (StartSingleJoin).
    private TreeNode? _joinTarget;

    // This member sponsors the single join in progress: the view's member digest waits until the key is derived.
    private bool _defersMembersDigest;

    // A joiner's copy of blinded keys that reached it before the tree it needs to place them (see OnBlindedKeys).
    private readonly List<Envelope> _early = [];

    // Received blinded keys already checked for group membership in this run, by reference. A received key is checked
    // where it is first used as a base (ExpReceived; in ristretto255 the multiplication itself decodes and checks it):
    // a member uses only its co-path, and most keys it receives are never a base of its own. Where the check is a
    // full-length exponentiation (MODP) and not part of the exponentiation itself, a key is not checked twice.
    private readonly HashSet<byte[]> _checked = new(ReferenceEqualityComparer.Instance);

    // Sealed path keys (TgdhPathSeal) received for nodes on this member's path, waiting for the node key that opens
    // them, and the keys they gave, by node: each one is an exponentiation this member need not do.
    private readonly List<PendingBox> _sealed = [];
    private readonly Dictionary<TreeNode, byte[]> _transported = [];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public TgdhModule(KeyAgreementOptions options)
        : base(options)
    {
        _splitFrom = options.TgdhSplitFrom > 0 ? options.TgdhSplitFrom : int.MaxValue;
    }

    private enum Phase
    {
        Idle,
        CollectAnnouncements,
        Fill,
    }

    public override KeyAgreementProtocol Protocol => KeyAgreementProtocol.Tgdh;

    internal override IEnumerable<byte[]> KnownScalars =>
        new[] { _tree, _work, _pendingRefresh }.OfType<TreeNode>().SelectMany(TgdhTree.Nodes).Select(n => n.Key).OfType<byte[]>();

    internal override IEnumerable<byte[]> KnownElements =>
        new[] { _tree, _work, _pendingRefresh }.OfType<TreeNode>().SelectMany(TgdhTree.Nodes)
            .SelectMany(n => new[] { n.Bk, n.Element }).OfType<byte[]>()
            .Concat(_announced.SelectMany(a => TgdhTree.Nodes(a.Tree)).Select(n => n.Bk).OfType<byte[]>());

    /// <summary>A sealed box as carried by a publication: under the key of the sender's path node <c>UnlockStep</c> steps above its leaf, the keys of the <c>Count</c> nodes above it.</summary>
    private sealed record SealedBox(int UnlockStep, int Count, byte[] Box);

    /// <summary>A box kept until this member knows <c>Unlock</c>'s key.</summary>
    private sealed record PendingBox(string Sender, TreeNode Unlock, SealedBox Box);

    /// <summary>A component's announced tree, with what the merge order needs (its size and its earliest member in the view).</summary>
    private sealed record AnnouncedTree(TreeNode Tree, List<TreeNode>? Leaves, int LeafCount, int FirstIndex);

    /// <summary>Height of the current tree (for benchmarks).</summary>
    internal int TreeHeight => _tree is null ? 0 : TgdhTree.Height(_tree);

    /// <summary>The tree of the run in progress, else the settled one (tests).</summary>
    internal TreeNode? CurrentTreeForTests => _work ?? _tree;

    /// <summary>
    /// Benchmarks only: a dealer builds a balanced tree over <paramref name="view"/>'s members with every key known,
    /// and gives each member its own copy (public blinded keys shared, private keys on its own path only).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void DealForBenchmark(IReadOnlyList<TgdhModule> modules, KeyAgreementView view)
    {
        DhGroup dh = modules[0].Dh;
        var counter = new OperationCounter();
        var random = new SeededRandomSource(view.Members.Count);
        TreeNode root = TgdhTree.Leaf(view.Members[0]);
        foreach (string member in view.Members.Skip(1))
        {
            root = TgdhTree.Insert(root, TgdhTree.Leaf(member));
            root.Parent = null;
        }

        // Post-order: leaf shares, then every internal key from its children; blinded keys below the root.
        var stack = new Stack<(TreeNode Node, bool Done)>();
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            (TreeNode node, bool done) = stack.Pop();
            if (node.IsLeaf)
            {
                node.Key = dh.RandomScalar(random);
            }
            else if (!done)
            {
                stack.Push((node, true));
                stack.Push((node.Right!, false));
                stack.Push((node.Left!, false));
                continue;
            }
            else
            {
                byte[] element = dh.Exp(node.Left!.Bk!, node.Right!.Key!, counter);
                node.Key = KeySchedule.ElementToScalar(dh, NodeKeyLabel, element);
                node.Element = node.Parent is null ? element : null;
            }

            if (node.Parent is not null || !node.IsLeaf)
            {
                node.Bk = node.Parent is null ? null : dh.ExpBase(node.Key, counter);
            }
        }

        if (root.IsLeaf)
        {
            root.Element = dh.ExpBase(root.Key!, counter);
        }

        foreach (TgdhModule module in modules)
        {
            TreeNode copy = TgdhTree.Clone(root);
            // Keep private keys on this member's path only.
            var path = new HashSet<TreeNode>();
            for (TreeNode? n = TgdhTree.Leaves(copy).First(l => l.Member == module.Self); n is not null; n = n.Parent)
            {
                path.Add(n);
            }

            foreach (TreeNode n in TgdhTree.Nodes(copy).Where(n => !path.Contains(n)))
            {
                TgdhTree.Forget(n);
            }

            module._tree = copy;
            module.IndexLeaves();
            module.InstallSettledForBenchmark(view, (byte[])root.Element!.Clone());
        }

        TgdhTree.EraseSecrets(root);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override IEnumerable<byte[]> ElementsIn(Envelope envelope)
    {
        var reader = new PayloadReader(envelope.Payload);
        switch (envelope.Type)
        {
            case Announce when TgdhTree.TryRead(ref reader, Dh.ElementLength, 1 << 20, out TreeNode? tree):
                return TgdhTree.Nodes(tree!).Select(n => n.Bk).OfType<byte[]>().ToList();
            case BlindedKeys or RefreshPath or LowerBlindedKeys when TryReadKeys(envelope, out List<(int, byte[])> keys, out int _):
                return keys.Select(k => k.Item2).ToList();
            default:
                return [];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void StartView(KeyAgreementView view)
    {
        if (_tree is not null && !HasStateFromPreviousView)
        {
            // Our tree is not the one our previous view agreed on (that run was cut short): start afresh.
            TgdhTree.EraseSecrets(_tree);
            _tree = null;
            _leafOf.Clear();
        }

        if (_tree is null)
        {
            // A new member: a one-leaf tree with a fresh share, published when announced.
            TreeNode leaf = TgdhTree.Leaf(Self);
            leaf.Key = Dh.RandomScalar(Options.Random);
            leaf.Bk = Dh.ExpBase(leaf.Key, Counter);
            _tree = leaf;
            IndexLeaves();
        }

        // The tree is changed in place: if this run is cut short, the next view finds no state from its previous
        // view and starts afresh, so the old tree is never needed again.
        // One pass over the leaves finds who is gone and marks, by view position, who stays (one lookup each).
        List<TreeNode>? gone = null;
        var mine = new bool[view.Members.Count];
        foreach ((string member, TreeNode leaf) in _leafOf)
        {
            if (CameAlong(member, out int at))
            {
                mine[at] = true;
            }
            else
            {
                (gone ??= []).Add(leaf);
            }
        }

        if (gone is not null)
        {
            // Pruning gives the same tree in any order (the leaves left, with single-child nodes contracted).
            _tree = TgdhTree.Prune(_tree, gone)!;
            foreach (TreeNode leaf in gone)
            {
                _leafOf.Remove(leaf.Member!);
            }
        }

        _work = _tree;
        if (_leafOf.Count < view.Members.Count)
        {
            if (_tree.IsLeaf && _tree.Bk is null)
            {
                // A member that was alone joins others: a fresh share with a public blinded key, announced like a
                // new member's, so that it is never the sponsor of its own insertion (and the old lone key is void).
                TgdhTree.Forget(_tree);
                _tree.Key = Dh.RandomScalar(Options.Random);
                _tree.Bk = Dh.ExpBase(_tree.Key, Counter);
            }

            _phase = Phase.CollectAnnouncements;
            _mine = mine;
            _covered = new bool[view.Members.Count];
            _coveredCount = 0;
            _ownCount = _leafOf.Count;

            if (_ownCount >= 2 && view.Members.Count - _ownCount == 1)
            {
                StartSingleJoin(view);
            }
            else if (TgdhTree.Rightmost(_work).Member == Self)
            {
                Broadcast(Announce, TgdhTree.Encode(_work));
            }

            return;
        }

        StartFill();
    }

    /// <summary>
    /// One new member joins a component of two or more: only the joiner needs this component's tree, so one member
    /// sends it to the joiner alone (a unicast the other members never parse, hash or verify) instead of broadcasting
    /// it to all; the component counts itself announced. The joiner is inserted on the left of its new sibling, so
    /// the sponsor — the rightmost leaf under the new node — is an existing member, who needs nothing but the joiner's
    /// small announcement: the joiner's copy of the tree travels while the sponsor computes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void StartSingleJoin(KeyAgreementView view)
    {
        _ownAnnounced = true;
        _coveredCount = _ownCount;
        int first = Array.IndexOf(_mine, true);
        _announced.Add(new AnnouncedTree(_work!, null, _ownCount, first));

        // Where the joiner will go and so who sponsors: found now, while this member waits for the joiner's
        // announcement, rather than in the merge on the sponsor's step, the critical one. The sponsor also leaves the
        // view's member digest for later (its own last step, off the chain): its view step can start the chain.
        _joinTarget = TgdhTree.InsertionTarget(_work!, 0);
        TreeNode sponsor = TgdhTree.Rightmost(_joinTarget);
        _defersMembersDigest = sponsor.Member == Self;

        // The sender is the sponsor-to-be, before anything else it sends in this view. The others are keyed by the
        // sponsor's broadcast of its path, and the host keeps one sender's messages in order (agreed delivery orders
        // a unicast against the same sender's broadcasts, not against another member's): so the joiner holds its
        // tree before that broadcast, and before any member can seal under the new key. Sent by another member, the
        // tree could come after the broadcast and after messages sealed under the key (refused at the joiner as
        // other-epoch), or never, if the view ended before that member's send went out (the flush drops it) while the
        // others had delivered the key: the joiner then never had the key of a view the others delivered.
        if (sponsor.Member == Self)
        {
            string joiner = view.Members[Array.IndexOf(_mine, false)];
            TreeNode tree = _work!;
            Unicast(joiner, Announce, TgdhTree.EncodedLength(tree), destination => TgdhTree.Encode(tree, destination));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override Rejection Handle(Envelope envelope) => envelope.Type switch
    {
        Announce => OnAnnounce(envelope),
        BlindedKeys or LowerBlindedKeys when envelope.Recipient is null => OnBlindedKeys(envelope),
        RefreshPath when envelope.Recipient is null => OnRefreshPath(envelope),
        _ => Rejection.Unexpected,
    };

    protected override bool StartsNextRun(Envelope envelope) => envelope.Type == RefreshPath && envelope.Recipient is null;

    protected override bool DefersMembersDigest => _defersMembersDigest;

    // The pending refresh holds the share of the broadcast in flight: replacing it would pair that broadcast with another share.
    protected override bool OwnRefreshPending => _pendingRefresh is not null;

    /// <summary>Refreshes this member's own leaf: new share, new path, one broadcast that opens the next run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Refresh()
    {
        ErasePendingRefresh();
        TreeNode copy = TgdhTree.Clone(_tree!);
        TreeNode leaf = FindLeaf(copy, Self)!;
        TgdhTree.Invalidate(leaf);
        TgdhTree.Forget(leaf);
        leaf.Key = Dh.RandomScalar(Options.Random);
        var keys = new List<(int, byte[])>();
        int steps = 0;
        for (TreeNode node = leaf; ; node = node.Parent!, steps++)
        {
            if (node.Parent is null)
            {
                break;
            }

            node.Bk = Dh.ExpBase(node.Key!, Counter);
            keys.Add((steps, node.Bk));
            ComputeParent(node);
        }

        if (leaf.Parent is null)
        {
            leaf.Element = Dh.ExpBase(leaf.Key, Counter);
        }

        _pendingRefresh = copy;
        var writer = new PayloadWriter();
        WriteKeys(writer, keys);
        // The refresh is a run of its own: it is tagged with the next run id and takes effect when delivered.
        SendInRun(Run + 1, RefreshPath, writer.ToArray());
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Rejection OnAnnounce(Envelope envelope)
    {
        if (_phase != Phase.CollectAnnouncements)
        {
            return Rejection.Unexpected;
        }

        var reader = new PayloadReader(envelope.Payload);
        bool welcome = envelope.Recipient is not null;
        if (!welcome && envelope.Sender == TgdhTree.Rightmost(_work!).Member)
        {
            // Our own component's announcement must be exactly the tree we hold.
            if (_covered.Length == 0 || !TgdhTree.Matches(_work!, ref reader, Dh.ElementLength) || !reader.AtEnd || _ownAnnounced)
            {
                return Rejection.Invalid;
            }

            Accept(envelope);
            _ownAnnounced = true;
            _coveredCount += _ownCount;
            _announced.Add(new AnnouncedTree(_work!, null, _ownCount, Array.IndexOf(_mine, true)));
        }
        else
        {
            // A broadcast announcement comes from its component's rightmost leaf; a unicast one (StartSingleJoin)
            // only to a one-member component, from a member of the tree, and covers everyone else.
            // Sized for a joiner's copy of the whole tree; a newcomer's own announcement (the sponsor's input in a
            // single join) is a leaf or two, and an 8 KB list for it is a page or two of fresh memory on the chain.
            var leaves = new List<TreeNode>(welcome ? View!.Members.Count : 4);
            var positions = new List<int>(leaves.Capacity);
            int maxNodes = 2 * View!.Members.Count;
            // Every leaf must be a member of the view: read against the view's index, which gives each its position.
            if (!TgdhTree.TryRead(ref reader, Dh.ElementLength, maxNodes, ViewIndex, out TreeNode? tree, leaves, positions) || !reader.AtEnd
                || (!welcome && TgdhTree.Rightmost(tree!).Member != envelope.Sender)
                || (welcome && (_ownCount != 1 || _coveredCount - (_ownAnnounced ? _ownCount : 0) != 0)))
            {
                return Rejection.Invalid;
            }

            // Group membership of announced blinded keys is checked where each is first used as a base
            // (ExpReceived): a member uses only its co-path, and checking all 2n on arrival dominated large joins.
            // Flags rather than a hash set: a joiner checks a thousand leaves here, on the join's critical path.
            var indexes = new int[leaves.Count];
            var inTree = new bool[View.Members.Count];
            int first = int.MaxValue;
            for (int i = 0; i < leaves.Count; i++)
            {
                int at = positions[i];
                if (_mine[at] || _covered[at] || inTree[at])
                {
                    return Rejection.Invalid;
                }

                inTree[at] = true;
                indexes[i] = at;
                first = Math.Min(first, at);
            }

            if (welcome && (leaves.Count != View.Members.Count - 1 || !inTree[ViewIndex[envelope.Sender]]))
            {
                return Rejection.Invalid;
            }

            Accept(envelope);
            foreach (int at in indexes)
            {
                _covered[at] = true;
            }

            _coveredCount += leaves.Count;
            _announced.Add(new AnnouncedTree(tree!, leaves, leaves.Count, first));
        }

        if (_coveredCount == View!.Members.Count)
        {
            MergeAnnounced();
            StartFill();
            ApplyEarlyKeys();
        }

        return Rejection.None;
    }

    /// <summary>Blinded keys a joiner accepted before it could place them: applied now, in the order received.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ApplyEarlyKeys()
    {
        if (_early.Count == 0)
        {
            // Nothing new since StartFill's own Progress. Running it again here made a sponsor compute its root key
            // before its broadcast left (a step's messages leave when it ends): one exponentiation on every join's
            // chain that the exponentiation counts, stamped at the send, did not show.
            return;
        }

        foreach (Envelope early in _early)
        {
            if (_poisoned || !TryApplyKeys(early, _work!, replacing: false, out List<(TreeNode Node, byte[] Bk)> updates)
                || !TryClaims(early, updates, out List<TreeNode> claimed))
            {
                // Signed by a member of the view but inconsistent with the tree: this run cannot finish (as with a
                // bad announced key); the next view restarts it.
                _poisoned = true;
                break;
            }

            CommitKeys(early, updates, claimed);
            KeepSealed(early);
        }

        _early.Clear();
        Progress();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Rejection OnBlindedKeys(Envelope envelope)
    {
        if (_phase == Phase.CollectAnnouncements && _ownCount == 1 && _early.Count < View!.Members.Count
            && TryReadKeys(envelope, out List<(int, byte[])> _, out int _))
        {
            // A joiner's copy of the tree is a unicast; the sponsor sends it ahead of this broadcast, so the host
            // delivers it first, but a host that reorders more is tolerated: keep the keys (in the transcript, where
            // every member has them) until the tree is here.
            Accept(envelope);
            _early.Add(envelope);
            return Rejection.None;
        }

        if (_phase != Phase.Fill)
        {
            return Rejection.Unexpected;
        }

        if (!TryApplyKeys(envelope, _work!, replacing: false, out List<(TreeNode Node, byte[] Bk)> updates)
            || !TryClaims(envelope, updates, out List<TreeNode> claimed))
        {
            return Rejection.Invalid;
        }

        Accept(envelope);
        CommitKeys(envelope, updates, claimed);
        KeepSealed(envelope);
        Progress();
        return Rejection.None;
    }

    /// <summary>
    /// Checks what a publication claims: a first part (<see cref="LowerBlindedKeys"/>) promises the missing nodes
    /// right above its last key; any part may fill only nodes nobody else promised.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryClaims(Envelope envelope, List<(TreeNode Node, byte[] Bk)> updates, out List<TreeNode> claimed)
    {
        claimed = [];
        foreach ((TreeNode node, byte[] _) in updates)
        {
            if (_claims.TryGetValue(node, out string? promiser) && promiser != envelope.Sender)
            {
                return false;
            }
        }

        if (envelope.Type != LowerBlindedKeys || !TryReadKeys(envelope, out List<(int, byte[])> _, out int promised))
        {
            return envelope.Type != LowerBlindedKeys;
        }

        TreeNode? top = updates[^1].Node;
        for (int i = 0; i < promised; i++)
        {
            top = top.Parent;
            if (top?.Parent is null || top.Bk is not null || _claims.ContainsKey(top))
            {
                claimed = [];
                return false;
            }

            claimed.Add(top);
        }

        return envelope.Sender != Self || claimed.SequenceEqual(_promised);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CommitKeys(Envelope envelope, List<(TreeNode Node, byte[] Bk)> updates, List<TreeNode> claimed)
    {
        foreach ((TreeNode node, byte[] bk) in updates)
        {
            _missingCount -= node.Bk is null ? 1 : 0;
            node.Bk = bk;
            _claims.Remove(node);
        }

        foreach (TreeNode node in claimed)
        {
            _claims[node] = envelope.Sender;
        }

        _promiseDue |= envelope.Sender == Self && claimed.Count > 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Rejection OnRefreshPath(Envelope envelope)
    {
        if (!OpensNextRun)
        {
            return Rejection.Unexpected;
        }

        bool own = envelope.Sender == Self;
        if (own && _pendingRefresh is null)
        {
            return Rejection.Unexpected;
        }

        TreeNode work = own ? _pendingRefresh! : _tree!;
        TreeNode? leaf = FindLeaf(work, envelope.Sender);
        if (leaf is null || !TryApplyKeys(envelope, work, replacing: true, out List<(TreeNode Node, byte[] Bk)> updates) || updates.Count != Depth(leaf))
        {
            return Rejection.Invalid;
        }

        _pendingRefresh = own ? null : _pendingRefresh;
        Accept(envelope); // opens the next run (and abandons any refresh of our own that lost the race)
        if (own)
        {
            if (!ReferenceEquals(_tree, work))
            {
                TgdhTree.EraseSecrets(_tree!);
            }

            _tree = work;
            IndexLeaves();
        }
        else
        {
            // Everything on the sender's path changes; our keys for those nodes are void.
            TgdhTree.Invalidate(leaf);
        }

        foreach ((TreeNode node, byte[] bk) in updates)
        {
            node.Bk = bk;
        }

        _work = work;
        _phase = Phase.Fill;
        _missingCount = TgdhTree.Nodes(work).Count(n => n.Parent is not null && n.Bk is null);
        Progress();
        return Rejection.None;
    }

    /// <summary>Merges the announced trees: larger first, ties by the earliest member in the view.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void MergeAnnounced()
    {
        List<TreeNode> ordered = _announced
            .OrderByDescending(a => a.LeafCount)
            .ThenBy(a => a.FirstIndex)
            .Select(a => a.Tree)
            .ToList();
        _leafOf.EnsureCapacity(View!.Members.Count);
        foreach (AnnouncedTree other in _announced)
        {
            foreach (TreeNode leaf in other.Leaves ?? [])
            {
                _leafOf.Add(leaf.Member!, leaf);
            }
        }

        TreeNode root = ordered[0];
        foreach (TreeNode tree in ordered.Skip(1))
        {
            // A component's root blinded key was never public: it is now an ordinary node that needs one.
            tree.Bk = tree.IsLeaf ? tree.Bk : null;
            root = _joinTarget is not null && ordered.Count == 2 && tree.IsLeaf && ReferenceEquals(root, _work)
                ? TgdhTree.InsertAt(root, tree, _joinTarget) // a single join: found at view time on this same tree
                : TgdhTree.Insert(root, tree);
        }

        _joinTarget = null;

        if (!ordered[0].IsLeaf && ordered.Count > 1 && ordered[0].Parent is not null)
        {
            ordered[0].Bk = null;
        }

        root.Parent = null;
        _work = root;
        _tree = root;
        _announced.Clear();
    }

    /// <summary>Chooses the sponsors (the rightmost leaf under each lowest node missing its blinded key), refreshes, starts the rounds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void StartFill()
    {
        _phase = Phase.Fill;
        TreeNode root = _work!;
        if (root.IsLeaf)
        {
            // Alone: a fresh share, and the key comes from it directly.
            TgdhTree.Forget(root);
            root.Key = Dh.RandomScalar(Options.Random);
            root.Bk = null;
            root.Element = Dh.ExpBase(root.Key, Counter);
            Complete();
            return;
        }

        // Lowest missing nodes: no blinded key, but both children have one (only non-root nodes carry one).
        var sponsors = new List<TreeNode>();
        _missingCount = 0;
        var walk = new Stack<TreeNode>();
        walk.Push(root);
        while (walk.Count > 0)
        {
            TreeNode n = walk.Pop();
            if (!n.IsLeaf)
            {
                walk.Push(n.Right!);
                walk.Push(n.Left!);
            }

            if (n.Parent is null || n.Bk is not null)
            {
                continue;
            }

            _missingCount++;
            if (n.IsLeaf || (n.Left!.Bk is not null && n.Right!.Bk is not null))
            {
                TreeNode sponsor = TgdhTree.Rightmost(n);
                if (!sponsors.Contains(sponsor))
                {
                    sponsors.Add(sponsor);
                }
            }
        }

        if (sponsors.Count == 0)
        {
            sponsors.Add(TgdhTree.Rightmost(root));
        }

        foreach (TreeNode sponsor in sponsors)
        {
            for (TreeNode? n = sponsor; n?.Parent is not null; n = n.Parent)
            {
                _missingCount += n.Bk is null ? 0 : 1;
            }

            TgdhTree.Invalidate(sponsor);
            if (sponsor.Member == Self)
            {
                TgdhTree.Forget(sponsor);
                sponsor.Key = Dh.RandomScalar(Options.Random);
            }
        }

        // Our own path keys below the first invalid ancestor are still good; above it they will be recomputed.
        Progress();
    }

    /// <summary>Computes what this member can on its path, publishes what it is sponsor for, and finishes when complete.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Progress()
    {
        if (_poisoned)
        {
            return;
        }

        try
        {
            ProgressUnchecked();
        }
        catch (CryptographicException)
        {
            // A blinded key accepted earlier turned out not to be a group element: this run cannot finish;
            // the next view restarts it (a malicious insider can always stall a run, never bias the key).
            _poisoned = true;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ProgressUnchecked()
    {
        TreeNode leaf = _myLeaf ??= FindLeaf(_work!, Self)!;

        // The lowest missing node on our path that nobody is publishing: we publish from it if we are the rightmost
        // leaf under it.
        TreeNode? lowestMissing = null;
        for (TreeNode node = leaf; node.Parent is not null; node = node.Parent)
        {
            if (node.Bk is null && !_published.Contains(node) && !_claims.ContainsKey(node))
            {
                lowestMissing = node;
                break;
            }
        }

        bool publishing = _promised.Count == 0 && lowestMissing is not null && TgdhTree.Rightmost(lowestMissing) == leaf;
        // While our first part is out, nothing above it is computed: this step's messages leave only when it ends.
        (TreeNode? stopAt, int upper) = publishing ? SplitPoint(lowestMissing!)
            : _promised.Count == 0 ? (null, 0)
            : (_promiseDue ? _promised[^1] : ChildOnPath(_promised[0], leaf), 0);
        for (TreeNode node = leaf; node.Parent is not null && node.Key is not null && node != stopAt; node = node.Parent)
        {
            if (node.Parent.Key is null || (node.Parent.Parent is null && node.Parent.Element is null))
            {
                // A sponsor sends its blinded keys before it computes the root: no one else needs its root key, and
                // it cannot finish before its own broadcast comes back (Progress runs again then). One
                // exponentiation less on every event's critical path.
                if (node.Sibling.Bk is null || ((publishing || _promiseDue) && node.Parent.Parent is null))
                {
                    break;
                }

                if (!TakeTransported(node.Parent))
                {
                    ComputeParent(node);
                }
            }
        }

        if (publishing && lowestMissing!.Key is not null)
        {
            var keys = new List<(int, byte[])>();
            var nodes = new List<TreeNode>();
            int steps = Depth(leaf) - Depth(lowestMissing);
            for (TreeNode node = lowestMissing; node.Parent is not null && node.Key is not null; node = node.Parent, steps++)
            {
                if (node.Bk is null && !_published.Contains(node))
                {
                    keys.Add((steps, Dh.ExpBase(node.Key, Counter)));
                    nodes.Add(node);
                    _published.Add(node);
                }

                if (node == stopAt)
                {
                    break;
                }
            }

            var writer = new PayloadWriter();
            WriteKeys(writer, keys);
            if (upper > 0)
            {
                for (TreeNode node = stopAt!.Parent!; _promised.Count < upper; node = node.Parent!)
                {
                    _promised.Add(node);
                }

                writer.U16(upper);
            }

            WriteBoxes(writer, keys, nodes);
            Broadcast(upper > 0 ? LowerBlindedKeys : BlindedKeys, writer.ToArray());
        }
        else if (_promiseDue && _promised[^1].Key is not null)
        {
            // Our first part is back: the upper part, computed meanwhile by no one else, follows.
            var keys = new List<(int, byte[])>();
            var nodes = new List<TreeNode>(_promised);
            int steps = Depth(leaf) - Depth(_promised[0]);
            foreach (TreeNode node in _promised)
            {
                keys.Add((steps++, Dh.ExpBase(node.Key!, Counter)));
                _published.Add(node);
            }

            _promised.Clear();
            _promiseDue = false;
            var writer = new PayloadWriter();
            WriteKeys(writer, keys);
            WriteBoxes(writer, keys, nodes);
            Broadcast(BlindedKeys, writer.ToArray());
        }

        if (_missingCount == 0 && _work!.Element is not null)
        {
            Complete();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static TreeNode ChildOnPath(TreeNode ancestor, TreeNode leaf)
    {
        TreeNode node = leaf;
        while (node.Parent != ancestor)
        {
            node = node.Parent!;
        }

        return node;
    }

    /// <summary>
    /// Where a sponsor splits a long publication (null and 0 if it does not): the members whose paths meet the
    /// sponsor's low in the tree need only the lower keys and have most of their path to compute, the others need
    /// the upper keys and have little left. Sending the lower three fifths first, and the rest on this member's next
    /// step (the first part's echo), lets the first group compute while the sponsor finishes its path: the chain is
    /// then about the sponsor's path and two fifths of a member's, instead of both in full.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (TreeNode? StopAt, int Upper) SplitPoint(TreeNode from)
    {
        var path = new List<TreeNode> { from };
        for (TreeNode n = from; n.Parent?.Parent is not null && n.Sibling.Bk is not null; n = n.Parent)
        {
            TreeNode next = n.Parent;
            if (next.Bk is not null || _published.Contains(next) || _claims.ContainsKey(next))
            {
                break;
            }

            path.Add(next);
        }

        if (path.Count < _splitFrom)
        {
            return (null, 0);
        }

        int lower = path.Count - (2 * path.Count / 5);
        return (path[lower - 1], path.Count - lower);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Complete()
    {
        byte[] element = (byte[])_work!.Element!.Clone();
        if (_tree is not null && !ReferenceEquals(_tree, _work))
        {
            TgdhTree.EraseSecrets(_tree);
        }

        _tree = _work;
        _work = null;
        _myLeaf = null;
        _published.Clear();
        ClearPromises();
        _checked.Clear();
        EraseTransported();
        _phase = Phase.Idle;
        Finish(element);
    }

    /// <summary>k_parent = H(bk_sibling ^ k_node); the root keeps its DH value, the group secret.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ComputeParent(TreeNode node)
    {
        TreeNode parent = node.Parent!;
        byte[] siblingBk = node.Sibling.Bk!;
        byte[] element = _checked.Contains(siblingBk) ? Dh.Exp(siblingBk, node.Key!, Counter) : ExpReceived(siblingBk, node.Key!);
        if (!Dh.ExpValidatesInput)
        {
            _checked.Add(siblingBk);
        }

        TgdhTree.Forget(parent);
        parent.Key = KeySchedule.ElementToScalar(Dh, NodeKeyLabel, element);
        if (parent.Parent is null)
        {
            parent.Element = element;
        }
        else
        {
            CryptographicOperations.ZeroMemory(element);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryApplyKeys(Envelope envelope, TreeNode tree, bool replacing, out List<(TreeNode Node, byte[] Bk)> updates)
    {
        updates = [];
        TreeNode? leaf = FindLeaf(tree, envelope.Sender);
        if (leaf is null || !TryReadKeys(envelope, out List<(int Steps, byte[] Bk)> keys, out int _))
        {
            return false;
        }

        if (keys.Count == 0)
        {
            return envelope.Type == RefreshPath && leaf.Parent is null; // a lone member's refresh
        }

        int last = -1;
        foreach ((int steps, byte[] bk) in keys)
        {
            TreeNode node = leaf;
            for (int i = 0; i < steps && node.Parent is not null; i++)
            {
                node = node.Parent;
            }

            bool ownEcho = envelope.Sender == Self;
            if (steps <= last || node.Parent is null || Depth(leaf) - Depth(node) != steps
                || (node.Bk is not null && !ownEcho && !replacing) || bk.AsSpan().IndexOfAnyExcept((byte)0) < 0)
            {
                updates = [];
                return false;
            }

            last = steps;
            updates.Add((node, bk));
        }

        return true;
    }

    /// <summary>Reads a list of (steps above the sender's leaf, blinded key); a first part ends with how many more it promises.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryReadKeys(Envelope envelope, out List<(int Steps, byte[] Bk)> keys, out int promised) =>
        TryReadKeys(envelope, out keys, out promised, out List<SealedBox> _);

    /// <summary>
    /// As above, with the sealed boxes a <see cref="BlindedKeys"/> or <see cref="LowerBlindedKeys"/> may end with. The
    /// last message read is remembered: handling one publication asks for its keys, promise and boxes three times
    /// (checks, claims, boxes), on every member's last step of an event; the callers only read the lists.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryReadKeys(Envelope envelope, out List<(int Steps, byte[] Bk)> keys, out int promised, out List<SealedBox> boxes)
    {
        if (!ReferenceEquals(envelope, _readFor))
        {
            _readOk = ReadKeys(envelope, out _readKeys, out _readPromised, out _readBoxes);
            _readFor = envelope;
        }

        keys = _readKeys;
        promised = _readPromised;
        boxes = _readBoxes;
        return _readOk;
    }

    // The last publication TryReadKeys read (public data only: blinded keys and sealed boxes).
    private Envelope? _readFor;
    private bool _readOk;
    private List<(int Steps, byte[] Bk)> _readKeys = [];
    private int _readPromised;
    private List<SealedBox> _readBoxes = [];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool ReadKeys(Envelope envelope, out List<(int Steps, byte[] Bk)> keys, out int promised, out List<SealedBox> boxes)
    {
        keys = [];
        promised = 0;
        boxes = [];
        var reader = new PayloadReader(envelope.Payload);
        if (!reader.U16(out int count) || !reader.U16(out int length))
        {
            return false;
        }

        for (int i = 0; i < count; i++)
        {
            if (!reader.U16(out int steps) || !reader.Bytes(length, out byte[] bk))
            {
                return false;
            }

            keys.Add((steps, bk));
        }

        if (envelope.Type == LowerBlindedKeys && (!reader.U16(out promised) || promised == 0))
        {
            return false;
        }

        if (envelope.Type is BlindedKeys or LowerBlindedKeys)
        {
            if (!reader.U8(out int boxCount) || boxCount > count)
            {
                return false;
            }

            for (int i = 0; i < boxCount; i++)
            {
                if (!reader.U16(out int unlockStep) || unlockStep < 1 || !reader.U16(out int sealedCount) || sealedCount == 0
                    || !reader.U16(out int boxLength) || !reader.Bytes(boxLength, out byte[] sealedBytes))
                {
                    return false;
                }

                boxes.Add(new SealedBox(unlockStep, sealedCount, sealedBytes));
            }
        }

        return reader.AtEnd;
    }

    /// <summary>
    /// Ends a publication with its sealed boxes (TgdhPathSeal): for each published node but the last, the keys of the
    /// published nodes above it, under its own key. The members whose paths meet the sender's at that node compute
    /// its key (one exponentiation) and open the box instead of computing the same keys again, one exponentiation each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteBoxes(PayloadWriter writer, List<(int Steps, byte[] Bk)> keys, List<TreeNode> nodes)
    {
        int from = keys.FindIndex(k => k.Steps >= 1);
        bool contiguous = keys.Count > 0 && keys[^1].Steps - keys[0].Steps == keys.Count - 1;
        if (from < 0 || !contiguous || from >= keys.Count - 1)
        {
            writer.U8(0);
            return;
        }

        writer.U8(keys.Count - 1 - from);
        // The keys of nodes from..end, concatenated once: box i holds the suffix above node i. The context differs
        // between boxes only in its last field, the step.
        int scalar = Dh.ScalarLength;
        byte[] plain = new byte[(keys.Count - from) * scalar];
        byte[] context = SealContext(Self, 0);
        try
        {
            for (int i = from; i < keys.Count; i++)
            {
                nodes[i].Key.AsSpan().CopyTo(plain.AsSpan((i - from) * scalar, scalar));
            }

            for (int i = from; i < keys.Count - 1; i++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(context.AsSpan(context.Length - 2), checked((ushort)keys[i].Steps));
                byte[] box = TgdhPathSeal.Seal(nodes[i].Key!, context, plain.AsSpan((i + 1 - from) * scalar));
                writer.U16(keys[i].Steps).U16(keys.Count - 1 - i).U16(box.Length).Bytes(box);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <summary>What a sealed box is bound to: this run of this view and group, its sender, its first step (the last two bytes: WriteBoxes rewrites them per box).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private byte[] SealContext(string sender, int firstStep) =>
        new PayloadWriter()
            .U32((int)(View!.ViewId >> 32)).U32((int)View.ViewId).U32((int)Run)
            .Names([Options.Group, sender]).U16(firstStep).ToArray();

    /// <summary>Keeps the one box of a received publication that helps this member: the lowest whose node is on its path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void KeepSealed(Envelope envelope)
    {
        if (envelope.Sender == Self || !TryReadKeys(envelope, out List<(int, byte[])> _, out int _, out List<SealedBox> boxes) || boxes.Count == 0)
        {
            return;
        }

        TreeNode? senderLeaf = FindLeaf(_work!, envelope.Sender);
        TreeNode mine = _myLeaf ??= FindLeaf(_work!, Self)!;
        foreach (SealedBox box in boxes.OrderBy(b => b.UnlockStep))
        {
            TreeNode? unlock = senderLeaf;
            for (int i = 0; i < box.UnlockStep && unlock is not null; i++)
            {
                unlock = unlock.Parent;
            }

            if (unlock is not null && IsAncestor(unlock, mine))
            {
                _sealed.Add(new PendingBox(envelope.Sender, unlock, box));
                return;
            }
        }
    }

    /// <summary>Gives <paramref name="node"/> its key from a sealed box if one holds it (opening any box whose node key is now known).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TakeTransported(TreeNode node)
    {
        for (int i = _sealed.Count - 1; i >= 0; i--)
        {
            PendingBox pending = _sealed[i];
            if (pending.Unlock.Key is null)
            {
                continue;
            }

            _sealed.RemoveAt(i);
            OpenBox(pending);
        }

        if (!_transported.Remove(node, out byte[]? key))
        {
            return false;
        }

        TgdhTree.Forget(node);
        node.Key = key;
        return true;
    }

    /// <summary>
    /// Opens a box and files its keys by node. A box that does not open, holds an invalid scalar or reaches past the
    /// root's children is ignored: the keys are then computed, as without it (a sender that lies here can only make
    /// this member's key differ, which key confirmation shows, as a wrong blinded key would).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void OpenBox(PendingBox pending)
    {
        if (!TgdhPathSeal.TryOpen(pending.Unlock.Key!, SealContext(pending.Sender, pending.Box.UnlockStep), pending.Box.Box, pending.Box.Count, Dh.ScalarLength, out List<byte[]> keys))
        {
            return;
        }

        var filed = new List<(TreeNode, byte[])>(keys.Count);
        TreeNode? node = pending.Unlock.Parent;
        foreach (byte[] key in keys)
        {
            if (node?.Parent is null || !Dh.IsValidScalar(key) || _transported.ContainsKey(node))
            {
                keys.ForEach(Erase);
                return;
            }

            filed.Add((node, key));
            node = node.Parent;
        }

        foreach ((TreeNode n, byte[] key) in filed)
        {
            _transported[n] = key;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool IsAncestor(TreeNode ancestor, TreeNode node)
    {
        for (TreeNode? n = node; n is not null; n = n.Parent)
        {
            if (n == ancestor)
            {
                return true;
            }
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EraseTransported()
    {
        foreach (byte[] key in _transported.Values)
        {
            Erase(key);
        }

        _transported.Clear();
        _sealed.Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteKeys(PayloadWriter writer, List<(int Steps, byte[] Bk)> keys)
    {
        writer.U16(keys.Count).U16(Dh.ElementLength);
        foreach ((int steps, byte[] bk) in keys)
        {
            writer.U16(steps).Bytes(bk);
        }
    }

    /// <summary>A member's leaf in <paramref name="tree"/>: by index for the current tree, by a walk for a refresh's copy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private TreeNode? FindLeaf(TreeNode tree, string member) =>
        ReferenceEquals(tree, _tree) ? _leafOf.GetValueOrDefault(member) : TgdhTree.Leaves(tree).FirstOrDefault(l => l.Member == member);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void IndexLeaves()
    {
        _leafOf.Clear();
        foreach (TreeNode leaf in TgdhTree.Leaves(_tree!))
        {
            _leafOf.Add(leaf.Member!, leaf);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Depth(TreeNode node)
    {
        int depth = 0;
        for (; node.Parent is not null; node = node.Parent)
        {
            depth++;
        }

        return depth;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ClearPromises()
    {
        _claims.Clear();
        _promised.Clear();
        _promiseDue = false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ErasePendingRefresh()
    {
        if (_pendingRefresh is not null)
        {
            TgdhTree.EraseSecrets(_pendingRefresh);
            _pendingRefresh = null;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void AbandonRun()
    {
        if (_work is not null && !ReferenceEquals(_work, _tree))
        {
            TgdhTree.EraseSecrets(_work);
        }

        _work = null;
        _myLeaf = null;
        _joinTarget = null;
        _defersMembersDigest = false;
        _poisoned = false;
        _ownAnnounced = false;
        _mine = [];
        _covered = [];
        _announced.Clear();
        _published.Clear();
        ClearPromises();
        _checked.Clear();
        EraseTransported();
        _early.Clear();
        ErasePendingRefresh();
        _phase = Phase.Idle;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void EraseAll()
    {
        if (_tree is not null)
        {
            TgdhTree.EraseSecrets(_tree);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void DescribeState(IncrementalHash hash)
    {
        WriteState(hash, _phase.ToString());
        foreach (TreeNode? tree in new[] { _tree, _work, _pendingRefresh })
        {
            if (tree is null)
            {
                WriteState(hash, "-");
                continue;
            }

            foreach (TreeNode n in TgdhTree.Nodes(tree))
            {
                WriteState(hash, n.Member ?? "*");
                WriteState(hash, n.Bk);
                WriteState(hash, n.Key);
                WriteState(hash, n.Element);
            }
        }

        WriteState(hash, _announced.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        WriteState(hash, _published.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        WriteState(hash, _early.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        WriteState(hash, $"{_claims.Count}/{_promised.Count}/{_promiseDue}/{_sealed.Count}/{_transported.Count}");
    }
}
