using System.Security.Cryptography;

namespace Conclave.Crypto.KeyAgreement;

/// <summary>
/// Cliques GDH as Secure Spread uses it (paper §4; key-agreement.md §1a): group secret g^(N_1⋯N_n), every member
/// holds the broadcast list of partial keys g^(Π/N_i), the controller is the newest member.
/// </summary>
/// <remarks>
/// Roles come from the view: the base component is the one holding the view's first (oldest) member; its newest
/// member is the controller. One new member → join (controller hands over, joiner broadcasts); several → merge
/// (token chain, factor-outs, final list); none → leave/partition/refresh (controller re-keys in one broadcast).
/// Members outside the base component drop their old state and join as new members. Long-term-key blinding
/// (A-GDH) is replaced by signatures on every message, so the counts differ from the paper's (docs/key-agreement.md).
/// </remarks>
internal sealed class GdhModule : ModuleBase
{
    private const byte JoinHandoff = 1;
    private const byte KeyList = 2;
    private const byte MergeToken = 3;
    private const byte MergeBroadcast = 4;
    private const byte FactorOut = 5;
    private const byte RefreshRequest = 6;

    /// <summary>Lists of at least this many elements are raised in parallel (below it the hand-off costs more than it saves).</summary>
    private const int ParallelExpThreshold = 16;

    // Committed state: changed only when a run finishes.
    private List<string> _order;
    private byte[]? _share;
    private Dictionary<string, byte[]> _partials = new(StringComparer.Ordinal);

    // The run in progress.
    private Phase _phase;
    private List<string> _runOrder = [];
    private string? _expectedSender;
    private byte[]? _runShare;
    private byte[]? _cardinal;
    private readonly Dictionary<string, byte[]> _factorOuts = new(StringComparer.Ordinal);
    private List<byte[]>? _pendingPartials;
    private byte[]? _pendingElement;

    // The controller's next share, prepared off the receive path for the committed state (TakePrecomputation).
    private GdhNextShare? _next;

    public GdhModule(KeyAgreementOptions options)
        : base(options)
    {
        _order = [];
        BecomeSingleton();
    }

    private enum Phase
    {
        Idle,
        AwaitHandoff,
        AwaitKeyList,
        AwaitMergeBroadcast,
        CollectFactorOuts,
        AwaitOwnKeyList,
    }

    public override KeyAgreementProtocol Protocol => KeyAgreementProtocol.Gdh;

    internal override IEnumerable<byte[]> KnownScalars => new[] { _share, _runShare, _next?.Share }.OfType<byte[]>();

    internal override IEnumerable<byte[]> KnownElements =>
        _partials.Values.Concat(_factorOuts.Values).Concat(_pendingPartials ?? []).Concat(_cardinal is null ? [] : [_cardinal]);

    /// <summary>The committed share (tests).</summary>
    internal byte[]? CommittedShare => _share;

    /// <summary>The next share prepared for the committed state, if handed out (tests).</summary>
    internal byte[]? PreparedShare => _next?.Share;

    /// <summary>The work preparing the next share, if handed out (tests).</summary>
    internal GdhNextShare? PreparedWork => _next;

    /// <summary>The current controller (newest member of the committed order).</summary>
    internal string? Controller => _order.Count > 0 ? _order[^1] : null;

    protected override IEnumerable<byte[]> ElementsIn(Envelope envelope)
    {
        var reader = new PayloadReader(envelope.Payload);
        switch (envelope.Type)
        {
            case JoinHandoff or KeyList when reader.Names(out _) && reader.Elements(Dh.ElementLength, out List<byte[]> list):
                return list;
            case MergeToken when reader.Names(out _) && reader.Names(out _) && reader.Bytes(Dh.ElementLength, out byte[] x):
                return [x];
            case MergeBroadcast when reader.Names(out _) && reader.Bytes(Dh.ElementLength, out byte[] x):
                return [x];
            case FactorOut when envelope.Payload.Length == Dh.ElementLength:
                return [envelope.Payload];
            default:
                return [];
        }
    }

    protected override void StartView(KeyAgreementView view)
    {
        if (_order.Count == 0 || !HasStateFromPreviousView)
        {
            // No state shared with our previous view (new, or its run was cut short): start as a group of one.
            EraseCommitted();
            BecomeSingleton();
        }

        List<string> pruned = _order.Where(CameAlong).ToList();
        if (!pruned.Contains(view.Members[0]))
        {
            // Not in the base component: our old group's state is of no further use.
            EraseCommitted();
            _phase = Phase.AwaitHandoff;
            return;
        }

        var kept = new HashSet<string>(pruned, StringComparer.Ordinal);
        List<string> newMembers = view.Members.Where(m => !kept.Contains(m)).ToList();
        string controller = pruned[^1];
        _runOrder = [.. pruned, .. newMembers];
        if (newMembers.Count == 0)
        {
            if (controller == Self)
            {
                ControllerRekey(pruned);
            }
            else
            {
                Await(Phase.AwaitKeyList, controller);
            }
        }
        else if (newMembers.Count == 1)
        {
            if (controller == Self)
            {
                HandOver(pruned, newMembers[0]);
            }

            Await(Phase.AwaitKeyList, newMembers[0]);
        }
        else
        {
            if (controller == Self)
            {
                StartMergeChain(pruned, newMembers);
            }

            Await(Phase.AwaitMergeBroadcast, newMembers[^1]);
        }
    }

    protected override Rejection Handle(Envelope envelope) => envelope.Type switch
    {
        JoinHandoff when envelope.Recipient is not null => OnJoinHandoff(envelope),
        KeyList when envelope.Recipient is null => OnKeyList(envelope),
        MergeToken when envelope.Recipient is not null => OnMergeToken(envelope),
        MergeBroadcast when envelope.Recipient is null => OnMergeBroadcast(envelope),
        FactorOut when envelope.Recipient is not null => OnFactorOut(envelope),
        RefreshRequest when envelope.Recipient is null => OnRefreshRequest(envelope),
        _ => Rejection.Unexpected,
    };

    protected override bool StartsNextRun(Envelope envelope) =>
        envelope.Type == KeyList && envelope.Recipient is null && Controller == envelope.Sender && envelope.Sender != Self;

    protected override void Refresh()
    {
        if (Controller == Self)
        {
            BeginOwnNextRun();
            ControllerRekey(_order, fresh: true);
        }
        else
        {
            Broadcast(RefreshRequest, []);
        }
    }

    /// <summary>A settled controller prepares its next share: the next join, leave or merge starts with it (a refresh draws its own).</summary>
    public override KeyAgreementPrecomputation? TakePrecomputation()
    {
        if (!IsSettled || _next is not null || Controller != Self || _share is null || _order.Count < 2)
        {
            return null;
        }

        byte[] share = Dh.RandomScalar(Options.Random);
        _next = new GdhNextShare(Dh, _share, share, Ratio(share), [.. _order.Where(m => m != Self).Select(m => (m, _partials[m]))], _partials[Self]);
        return _next;
    }

    private Rejection OnJoinHandoff(Envelope envelope)
    {
        if (_phase != Phase.AwaitHandoff || !TryReadList(envelope.Payload, out List<string> order, out List<byte[]> partials)
            || order.Count < 2 || order[^1] != Self || envelope.Sender != order[^2] || !IsPermutationOfView(order))
        {
            return _phase != Phase.AwaitHandoff ? Rejection.Unexpected : Rejection.Invalid;
        }

        byte[] share = Dh.RandomScalar(Options.Random);
        List<byte[]> raised;
        try
        {
            raised = ExpEach(partials, share);
        }
        catch (CryptographicException)
        {
            Erase(share);
            return Rejection.Invalid;
        }

        // The last one raised is the group element; the list carries the cardinal value as it came in its place.
        byte[] element = raised[^1];
        raised[^1] = partials[^1];
        Accept(envelope);
        _runOrder = order;
        _runShare = share;
        _pendingPartials = raised;
        _pendingElement = element;
        Broadcast(KeyList, WriteList(order, raised));
        _phase = Phase.AwaitOwnKeyList;
        return Rejection.None;
    }

    private Rejection OnKeyList(Envelope envelope)
    {
        if (envelope.Sender == Self)
        {
            if (_phase != Phase.AwaitOwnKeyList)
            {
                return Rejection.Unexpected;
            }

            Accept(envelope);
            byte[] own = _pendingElement ?? Dh.Exp(_pendingPartials![_runOrder.IndexOf(Self)], _runShare!, Counter);
            _pendingElement = null;
            Commit(_runOrder, _runShare!, _pendingPartials!);
            Finish(own);
            return Rejection.None;
        }

        bool refresh = OpensNextRun;
        string? expectedSender = refresh ? Controller : _expectedSender;
        List<string> expectedOrder = refresh ? _order : _runOrder;
        if ((!refresh && _phase != Phase.AwaitKeyList) || envelope.Sender != expectedSender)
        {
            return Rejection.Unexpected;
        }

        if (!TryReadList(envelope.Payload, out List<string> order, out List<byte[]> partials) || !order.SequenceEqual(expectedOrder))
        {
            return Rejection.Invalid;
        }

        byte[] share = (refresh ? null : _runShare) ?? _share!;
        byte[] element = ExpReceived(partials[order.IndexOf(Self)], share);
        Accept(envelope);
        Commit(order, share, partials);
        Finish(element);
        return Rejection.None;
    }

    private Rejection OnMergeToken(Envelope envelope)
    {
        if (_phase != Phase.AwaitHandoff)
        {
            return Rejection.Unexpected;
        }

        var reader = new PayloadReader(envelope.Payload);
        if (!reader.Names(out List<string> baseOrder) || !reader.Names(out List<string> chain)
            || !reader.Bytes(Dh.ElementLength, out byte[] cardinal) || !reader.AtEnd)
        {
            return Rejection.Invalid;
        }

        int at = chain.IndexOf(Self);
        List<string> order = [.. baseOrder, .. chain];
        if (baseOrder.Count == 0 || at < 0 || !IsPermutationOfView(order)
            || envelope.Sender != (at == 0 ? baseOrder[^1] : chain[at - 1]))
        {
            return Rejection.Invalid;
        }

        if (at == chain.Count - 1)
        {
            if (!IsValidReceived(cardinal))
            {
                return Rejection.Invalid;
            }

            Accept(envelope);
            _runOrder = order;
            _cardinal = cardinal;
            _factorOuts.Clear();
            _phase = Phase.CollectFactorOuts;
            Broadcast(MergeBroadcast, new PayloadWriter().Names(order).Bytes(cardinal).ToArray());
            return Rejection.None;
        }

        byte[] share = Dh.RandomScalar(Options.Random);
        byte[] next;
        try
        {
            next = ExpReceived(cardinal, share);
        }
        catch (CryptographicException)
        {
            Erase(share);
            return Rejection.Invalid;
        }

        Accept(envelope);
        _runOrder = order;
        _runShare = share;
        Unicast(chain[at + 1], MergeToken, new PayloadWriter().Names(baseOrder).Names(chain).Bytes(next).ToArray());
        Await(Phase.AwaitMergeBroadcast, chain[^1]);
        return Rejection.None;
    }

    private Rejection OnMergeBroadcast(Envelope envelope)
    {
        if (envelope.Sender == Self)
        {
            if (_phase is not (Phase.CollectFactorOuts or Phase.AwaitOwnKeyList))
            {
                return Rejection.Unexpected;
            }

            Accept(envelope);
            return Rejection.None;
        }

        if (_phase != Phase.AwaitMergeBroadcast || envelope.Sender != _expectedSender)
        {
            return Rejection.Unexpected;
        }

        var reader = new PayloadReader(envelope.Payload);
        if (!reader.Names(out List<string> order) || !reader.Bytes(Dh.ElementLength, out byte[] cardinal) || !reader.AtEnd
            || !order.SequenceEqual(_runOrder))
        {
            return Rejection.Invalid;
        }

        byte[] inverse = Dh.Invert(_runShare ?? _share!, Counter);
        byte[] factoredOut;
        try
        {
            factoredOut = ExpReceived(cardinal, inverse);
        }
        finally
        {
            Erase(inverse);
        }

        Accept(envelope);
        Unicast(envelope.Sender, FactorOut, factoredOut);
        _phase = Phase.AwaitKeyList;
        return Rejection.None;
    }

    private Rejection OnFactorOut(Envelope envelope)
    {
        if (_phase != Phase.CollectFactorOuts)
        {
            return Rejection.Unexpected;
        }

        if (!_runOrder.Contains(envelope.Sender) || envelope.Sender == Self || _factorOuts.ContainsKey(envelope.Sender))
        {
            return Rejection.Unexpected;
        }

        if (envelope.Payload.Length != Dh.ElementLength || !IsValidReceived(envelope.Payload))
        {
            return Rejection.Invalid;
        }

        Accept(envelope);
        _factorOuts[envelope.Sender] = envelope.Payload;
        if (_factorOuts.Count == _runOrder.Count - 1)
        {
            byte[] share = Dh.RandomScalar(Options.Random);
            var partials = _runOrder.Select(m => m == Self ? _cardinal! : Dh.Exp(_factorOuts[m], share, Counter)).ToList();
            _pendingElement = Dh.Exp(_cardinal!, share, Counter);
            _runShare = share;
            _pendingPartials = partials;
            _phase = Phase.AwaitOwnKeyList;
            Broadcast(KeyList, WriteList(_runOrder, partials));
        }

        return Rejection.None;
    }

    private Rejection OnRefreshRequest(Envelope envelope)
    {
        if (!IsSettled || envelope.Payload.Length != 0)
        {
            return IsSettled ? Rejection.Invalid : Rejection.Unexpected;
        }

        Accept(envelope);
        if (Controller == Self)
        {
            BeginOwnNextRun();
            ControllerRekey(_order, fresh: true);
        }

        return Rejection.None;
    }

    /// <summary>
    /// Leave, partition and refresh: a new controller share, every other partial key updated, one broadcast. A refresh
    /// (<paramref name="fresh"/>) draws its share now: one prepared earlier would have been in memory when the controller
    /// was compromised, and the refresh is what heals that.
    /// </summary>
    private void ControllerRekey(List<string> order, bool fresh = false)
    {
        (byte[] share, List<byte[]> partials, _) = NextShare(order, withCardinal: false, mayUsePrepared: !fresh);
        _runOrder = order;
        _runShare = share;
        _pendingPartials = partials;
        _pendingElement = null; // computed after the broadcast, off the critical path of the others
        _phase = Phase.AwaitOwnKeyList;
        Broadcast(KeyList, WriteList(order, partials));
    }

    /// <summary>Join: the controller refreshes its share and hands the partial keys and the cardinal value to the joiner.</summary>
    private void HandOver(List<string> pruned, string joiner)
    {
        (byte[] share, List<byte[]> partials, byte[]? cardinal) = NextShare(pruned, withCardinal: true);
        partials.Add(cardinal!);
        _runShare = share;
        Unicast(joiner, JoinHandoff, WriteList([.. pruned, joiner], partials));
    }

    /// <summary>Merge step 1: a new controller share and the cardinal value sent down the chain of new members.</summary>
    private void StartMergeChain(List<string> pruned, List<string> chain)
    {
        byte[] share;
        byte[] cardinal;
        if (TakeReadyNext([]) is GdhNextShare next)
        {
            (share, cardinal) = (next.Share, next.Cardinal);
            next.EraseAfterUse(keepCardinal: true);
        }
        else
        {
            share = Dh.RandomScalar(Options.Random);
            cardinal = ExpReceived(_partials[Self], share);
        }

        _runShare = share;
        Unicast(chain[0], MergeToken, new PayloadWriter().Names(pruned).Names(chain).Bytes(cardinal).ToArray());
    }

    /// <summary>
    /// A new controller share with every member's partial key updated to it (and, for a hand-off, the cardinal value):
    /// the prepared ones if they are ready and fit, else computed now.
    /// </summary>
    private (byte[] Share, List<byte[]> Partials, byte[]? Cardinal) NextShare(List<string> order, bool withCardinal, bool mayUsePrepared = true)
    {
        if (mayUsePrepared && TakeReadyNext(order.Where(m => m != Self)) is GdhNextShare next)
        {
            (byte[] Share, List<byte[]> Partials, byte[]? Cardinal) taken =
                (next.Share, [.. order.Select(m => m == Self ? _partials[Self] : next.Updated(m))], withCardinal ? next.Cardinal : null);
            next.EraseAfterUse(keepCardinal: withCardinal);
            return taken;
        }

        byte[] share = Dh.RandomScalar(Options.Random);
        List<byte[]> partials = UpdatedPartials(order, share);
        return (share, partials, withCardinal ? ExpReceived(_partials[Self], share) : null);
    }

    /// <summary>
    /// Takes the prepared share: returned if its work finished for the committed share and covers <paramref name="others"/>,
    /// else erased. Either way it is gone (a share goes into one run only), and the work it finished is counted.
    /// </summary>
    private GdhNextShare? TakeReadyNext(IEnumerable<string> others)
    {
        GdhNextShare? next = _next;
        _next = null;
        if (next is null)
        {
            return null;
        }

        // Read once: the work may finish on its thread between two reads, and work used must be work counted.
        bool finished = next.IsFinished;
        if (finished)
        {
            Counter.PrecomputedExponentiations += next.Counter.Exponentiations;
            Counter.Validations += next.Counter.Validations;
        }

        if (finished && ReferenceEquals(next.BasedOn, _share) && next.Covers(others))
        {
            return next;
        }

        next.Erase();
        return null;
    }

    private void DiscardNext()
    {
        _next?.Erase();
        _next = null;
    }

    /// <summary>Every member's partial key with our old share swapped for <paramref name="share"/> (ours is unchanged: it lacks our share).</summary>
    private List<byte[]> UpdatedPartials(List<string> order, byte[] share)
    {
        byte[] update = Ratio(share);
        try
        {
            List<byte[]> others = ExpEach([.. order.Where(m => m != Self).Select(m => _partials[m])], update);
            var partials = new List<byte[]>(order.Count + 1);
            int next = 0;
            foreach (string m in order)
            {
                partials.Add(m == Self ? _partials[Self] : others[next++]);
            }

            return partials;
        }
        finally
        {
            Erase(update);
        }
    }

    /// <summary>
    /// Each element raised to <paramref name="scalar"/>, validated as received elements are. A join's serial path is the
    /// controller's n exponentiations, then the joiner's n: long lists are spread over the cores, in order.
    /// </summary>
    private List<byte[]> ExpEach(List<byte[]> elements, byte[] scalar)
    {
        var results = new byte[elements.Count][];
        if (elements.Count < ParallelExpThreshold || Environment.ProcessorCount < 2)
        {
            for (int i = 0; i < results.Length; i++)
            {
                results[i] = ExpReceived(elements[i], scalar);
            }

            return [.. results];
        }

        // OperationCounter is not thread-safe: each worker counts on its own, added up once all are done.
        var counters = new System.Collections.Concurrent.ConcurrentBag<OperationCounter>();
        try
        {
            Parallel.For(0, results.Length, () => new OperationCounter(), (i, _, counter) =>
            {
                byte[] element = elements[i];
                if (!Dh.ExpValidatesInput && !Dh.IsValidElement(element, counter))
                {
                    throw new CryptographicException("Received element is not in the group.");
                }

                results[i] = Dh.Exp(element, scalar, counter);
                return counter;
            }, counters.Add);
        }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is CryptographicException))
        {
            throw e.InnerExceptions[0];
        }
        finally
        {
            foreach (OperationCounter c in counters)
            {
                Counter.Exponentiations += c.Exponentiations;
                Counter.Validations += c.Validations;
            }
        }

        return [.. results];
    }

    /// <summary>N̂·N⁻¹ mod q: raising a partial key to it swaps the old share for the new one.</summary>
    private byte[] Ratio(byte[] newShare)
    {
        byte[] inverse = Dh.Invert(_share!, Counter);
        byte[] ratio = Dh.Multiply(newShare, inverse);
        Erase(inverse);
        return ratio;
    }

    private void Commit(List<string> order, byte[] share, List<byte[]> partials)
    {
        DiscardNext();
        if (!ReferenceEquals(share, _share))
        {
            Erase(_share);
        }

        _order = order;
        _share = share;
        _runShare = null;
        _partials = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (int i = 0; i < order.Count; i++)
        {
            _partials[order[i]] = partials[i];
        }

        _pendingPartials = null;
        _phase = Phase.Idle;
    }

    private void BecomeSingleton()
    {
        _order = [Self];
        _share = Dh.RandomScalar(Options.Random);
        _partials = new Dictionary<string, byte[]>(StringComparer.Ordinal) { [Self] = Dh.Generator };
    }

    private void Await(Phase phase, string sender)
    {
        _phase = phase;
        _expectedSender = sender;
    }

    private bool IsPermutationOfView(List<string> order) =>
        order.Count == View!.Members.Count && order.All(ViewIndex.ContainsKey);

    private static byte[] WriteList(IReadOnlyList<string> order, IReadOnlyList<byte[]> partials) =>
        new PayloadWriter().Names(order).Elements(partials).ToArray();

    private bool TryReadList(byte[] payload, out List<string> order, out List<byte[]> partials)
    {
        var reader = new PayloadReader(payload);
        partials = [];
        return reader.Names(out order) && reader.Elements(Dh.ElementLength, out partials) && reader.AtEnd
            && partials.Count == order.Count && order.Contains(Self);
    }

    protected override void AbandonRun()
    {
        if (!ReferenceEquals(_runShare, _share))
        {
            Erase(_runShare);
        }

        Erase(_pendingElement);
        _runShare = null;
        _pendingElement = null;
        _pendingPartials = null;
        _cardinal = null;
        _factorOuts.Clear();
        _phase = Phase.Idle;
        _expectedSender = null;
    }

    protected override void EraseAll() => EraseCommitted();

    private void EraseCommitted()
    {
        DiscardNext();
        Erase(_share);
        _share = null;
        _order = [];
        _partials.Clear();
    }

    protected override void DescribeState(IncrementalHash hash)
    {
        WriteState(hash, _phase.ToString());
        WriteState(hash, string.Join(",", _order));
        WriteState(hash, string.Join(",", _runOrder));
        WriteState(hash, _expectedSender ?? "-");
        WriteState(hash, _share);
        WriteState(hash, _runShare);
        WriteState(hash, _cardinal);
        WriteState(hash, _pendingElement);
        foreach (string m in _order)
        {
            WriteState(hash, _partials.GetValueOrDefault(m));
        }

        foreach ((string m, byte[] f) in _factorOuts.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            WriteState(hash, m);
            WriteState(hash, f);
        }
    }
}
