using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Conclave.Crypto.KeyAgreement;

// Methods carry [MethodImpl(AggressiveOptimization)]: a membership event runs most of this code once or a few
// times, so under tiered JIT it would stay in the unoptimised first tier for a member's first ~30 events
// (measured at n = 1000: TGDH join 2.1-2.3 ms tiered, 1.9-2.0 ms optimised; docs/benchmarks.md).
/// <summary>
/// What every protocol module shares: view and run bookkeeping, the checks every received message passes
/// (parse, context, view, run, sender, addressee, signature, replay), signing of outputs, the transcript
/// and the key schedule.
/// </summary>
/// <remarks>
/// Handlers validate a message completely, then call <see cref="Accept"/>, then change state: a refused
/// message therefore never changes anything.
/// </remarks>
internal abstract class ModuleBase : IGroupKeyAgreement
{
    private readonly List<byte[]> _transcript = [];
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    // What this member signed in the current view, by digest: its own echo is recognised by comparing bytes, not by
    // verifying its own signature again (one verification less on every chain through a sender's echo).
    private readonly Dictionary<string, byte[]> _sent = new(StringComparer.Ordinal);

    // SHA-256 of the view's member list, for the transcript: made once per view, by a member with nothing to send at
    // view time while it waits for others, else when first needed.
    private byte[]? _membersDigest;
    private List<KeyAgreementOutput> _outputs = [];
    private bool _disposed;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected ModuleBase(KeyAgreementOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Dh = options.DhGroup;
        Counter = options.Counter;
        Self = options.Self;
    }

    public abstract KeyAgreementProtocol Protocol { get; }

    public Epoch? CurrentEpoch { get; private set; }

    public bool IsSettled { get; private set; }

    /// <summary>SHA-256 of the last group element (tests compare it with what an outsider could compute).</summary>
    internal byte[]? LastElementDigest { get; private set; }

    /// <summary>SHA-256 of the group element before the last one.</summary>
    internal byte[]? LastElementDigestBefore { get; private set; }

    /// <summary>The last key established.</summary>
    internal byte[]? LastKey { get; private set; }

    protected KeyAgreementOptions Options { get; }

    protected DhGroup Dh { get; }

    protected OperationCounter Counter { get; }

    protected string Self { get; }

    protected KeyAgreementView? View { get; private set; }

    /// <summary>Each member of the current view and its position in the agreed order.</summary>
    protected Dictionary<string, int> ViewIndex { get; private set; } = new(StringComparer.Ordinal);

    protected uint Run { get; private set; }

    /// <summary>The current view's members that did not come with this member from its previous view (<see cref="KeyAgreementView.Joined"/>).</summary>
    // Made on first need: a new member's view lists every other member as joined, and it asks only about itself
    // (a thousand-name set on its view step, the first step of every join's chain, for nothing).
    private HashSet<string>? _newcomers;

    private IReadOnlyList<string> _joined = [];

    /// <summary>
    /// True if <paramref name="member"/> is in the current view and came with this member from its previous view, so
    /// state shared with it may be kept. Any other member is treated as new, even if this member still holds state
    /// with it (it was elsewhere meanwhile, and its own state may no longer match).
    /// </summary>
    protected bool CameAlong(string member) => CameAlong(member, out _);

    /// <summary>As <see cref="CameAlong(string)"/>, with the member's position in the view.</summary>
    protected bool CameAlong(string member, out int index) =>
        ViewIndex.TryGetValue(member, out index) && (member == Self || !(_newcomers ??= Newcomers(_joined, Self)).Contains(member));

    private static HashSet<string> Newcomers(IReadOnlyList<string> joined, string self)
    {
        var newcomers = new HashSet<string>(joined, StringComparer.Ordinal);
        newcomers.Remove(self);
        return newcomers;
    }

    /// <summary>The id of the view installed before the current one.</summary>
    protected ulong? PreviousViewId { get; private set; }

    /// <summary>
    /// True if this member's last key belongs to its previous view. View synchrony makes this the same for every
    /// member that comes from that view, so they can trust their shared state; otherwise a member starts afresh.
    /// </summary>
    protected bool HasStateFromPreviousView => CurrentEpoch is { } epoch && epoch.ViewId == PreviousViewId;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public StepResult OnView(KeyAgreementView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        ObjectDisposedException.ThrowIf(_disposed, this);
        // One pass builds the index and checks the member list (a thousand-member view is hashed once, not three times).
        Dictionary<string, int> index = Index(view);
        if (!index.ContainsKey(Self) || index.Count != view.Members.Count)
        {
            throw new ArgumentException("A view must list this member once and no member twice.", nameof(view));
        }

        if (View is not null && view.ViewId <= View.ViewId)
        {
            throw new ArgumentException("View ids must increase.", nameof(view));
        }

        AbandonRun();
        _deferred.Clear();
        _sent.Clear();
        _membersDigest = null;
        PreviousViewId = View?.ViewId;
        View = view;
        ViewIndex = index;
        _joined = view.Joined;
        _newcomers = null;
        Run = 0;
        ResetRunLog();
        IsSettled = false;
        _outputs = [];
        StartView(view);
        if (_outputs.Count == 0 && !DefersMembersDigest)
        {
            _membersDigest ??= KeySchedule.MembersDigest(view.Members);
        }

        return Collect(Rejection.None);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public StepResult OnMessage(ReadOnlySpan<byte> wire)
    {
        StepResult result = Process(wire);
        if (_deferred.Count == 0 || !IsSettled || result.Rejection != Rejection.None)
        {
            return result;
        }

        // This message finished our run: the later runs' messages we kept can be handled now, in their order.
        var outputs = new List<KeyAgreementOutput>(result.Outputs);
        for (int pass = 0; pass < MaxDeferred && IsSettled && _deferred.Count > 0; pass++)
        {
            byte[][] kept = [.. _deferred];
            _deferred.Clear();
            foreach (byte[] message in kept)
            {
                outputs.AddRange(Process(message).Outputs); // one that no longer fits is dropped, as it would have been
            }
        }

        return new StepResult(outputs, Rejection.None);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private StepResult Process(ReadOnlySpan<byte> wire)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Envelope.IsForAnother(wire, Self))
        {
            return StepResult.Rejected(Rejection.NotForMe);
        }

        if (!Envelope.TryParse(wire, out Envelope envelope))
        {
            return StepResult.Rejected(Rejection.Malformed);
        }

        if (View is null || envelope.ViewId != View.ViewId)
        {
            return StepResult.Rejected(Rejection.StaleView);
        }

        if (envelope.Protocol != Protocol || envelope.Group != Options.Group)
        {
            return StepResult.Rejected(Rejection.WrongContext);
        }

        bool nextRun = envelope.Run == Run + 1 && IsSettled && StartsNextRun(envelope);
        bool later = envelope.Run == Run + 1 && !IsSettled;
        if (envelope.Run != Run && !nextRun && !later)
        {
            return StepResult.Rejected(Rejection.StaleRun);
        }

        if (!ViewIndex.ContainsKey(envelope.Sender) || !Options.Directory.TryGet(envelope.Sender, out byte[] publicKey))
        {
            return StepResult.Rejected(Rejection.UnknownSender);
        }

        if (envelope.Recipient is not null && envelope.Recipient != Self)
        {
            return StepResult.Rejected(Rejection.NotForMe);
        }

        if (!IsOwnEcho(envelope) && !envelope.Verify(publicKey, Counter))
        {
            return StepResult.Rejected(Rejection.BadSignature);
        }

        if (later)
        {
            // The next run of this view, opened by members that finished this run before us: our last piece is a
            // unicast that agreed delivery did not order before their broadcasts (TGDH's joiner waits for its copy of
            // the tree). Kept, authenticated and bounded, until our run ends; then handled as if it came after.
            if (_deferred.Count >= MaxDeferred)
            {
                return StepResult.Rejected(Rejection.StaleRun);
            }

            _deferred.Add(wire.ToArray());
            return StepResult.Empty;
        }

        if (!nextRun && _seen.Contains(Digest(envelope)))
        {
            return StepResult.Rejected(Rejection.Replay);
        }

        _outputs = [];
        _pendingNextRun = nextRun;
        Rejection rejection;
        try
        {
            rejection = Handle(envelope);
        }
        catch (CryptographicException) when (!_accepted)
        {
            // An element failed validation inside a computation before anything was committed.
            rejection = Rejection.Invalid;
        }
        finally
        {
            _pendingNextRun = false;
        }

        if (rejection != Rejection.None && _accepted)
        {
            throw new InvalidOperationException("A handler refused a message after accepting it.");
        }

        _accepted = false;
        return Collect(rejection);
    }

    /// <summary>True if <paramref name="envelope"/> is, byte for byte, a message this member signed in this view.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool IsOwnEcho(Envelope envelope) =>
        envelope.Sender == Self && _sent.TryGetValue(Digest(envelope), out byte[]? signature) && signature.AsSpan().SequenceEqual(envelope.Signature);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public StepResult RequestRefresh()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!IsSettled || View is null || OwnRefreshPending)
        {
            return StepResult.Rejected(Rejection.Unexpected);
        }

        _outputs = [];
        Refresh();
        return Collect(Rejection.None);
    }

    /// <inheritdoc />
    public virtual KeyAgreementPrecomputation? TakePrecomputation() => null;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Dispose()
    {
        if (!_disposed)
        {
            AbandonRun();
            EraseAll();
            if (LastKey is not null)
            {
                CryptographicOperations.ZeroMemory(LastKey);
            }

            _disposed = true;
        }
    }

    /// <summary>
    /// Benchmarks only: puts the module straight into a settled view with the given group secret, as if a run had
    /// just finished (set-up for measuring one event in a large group without replaying its whole history).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void InstallSettledForBenchmark(KeyAgreementView view, byte[] element)
    {
        AbandonRun();
        PreviousViewId = View?.ViewId;
        View = view;
        ViewIndex = Index(view);
        _joined = view.Joined;
        _newcomers = null;
        _sent.Clear();
        _membersDigest = null;
        Run = 0;
        ResetRunLog();
        _outputs = [];
        Finish(element);
        _outputs = [];
    }

    /// <summary>A digest of the whole protocol state, for tests that check refused input changes nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal byte[] StateDigest()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var w = new PayloadWriter().U32((int)(View?.ViewId ?? 0)).U32((int)Run).U8(IsSettled ? 1 : 0)
            .U32(_transcript.Count).U32(_seen.Count).Names(_seen.Order(StringComparer.Ordinal).ToList());
        hash.AppendData(w.ToArray());
        foreach (byte[] t in _transcript)
        {
            hash.AppendData(t);
        }

        DescribeState(hash);
        return hash.GetHashAndReset();
    }

    private bool _accepted;
    private bool _pendingNextRun;

    /// <summary>At most this many messages of later runs are kept while this member's run is unfinished.</summary>
    private const int MaxDeferred = 64;

    /// <summary>Authenticated messages of later runs of this view received before this member finished its run.</summary>
    private readonly List<byte[]> _deferred = [];

    /// <summary>Called by a handler once the message is fully validated: records it and, if it opens the next run, starts that run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected void Accept(Envelope envelope)
    {
        if (_pendingNextRun)
        {
            AbandonRun();
            Run++;
            ResetRunLog();
            IsSettled = false;
        }

        _accepted = true;
        _seen.Add(Digest(envelope));
        if (envelope.Recipient is null)
        {
            _transcript.Add(envelope.Digest);
        }
    }

    /// <summary>True while handling a message that opens run <c>Run + 1</c>.</summary>
    protected bool OpensNextRun => _pendingNextRun;

    /// <summary>Starts run <c>Run + 1</c> locally (a refresh this member initiates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected void BeginOwnNextRun()
    {
        AbandonRun();
        Run++;
        ResetRunLog();
        IsSettled = false;
    }

    protected void Broadcast(byte type, byte[] payload) => Send(null, type, payload);

    protected void Unicast(string to, byte type, byte[] payload) => Send(to, type, payload);

    /// <summary>A unicast whose payload is written in place into the signed message.</summary>
    protected void Unicast(string to, byte type, int payloadLength, Envelope.PayloadEncoder encode) => Send(to, type, [], null, (payloadLength, encode));

    /// <summary>Derives and announces the key of this run from the group element, then erases the element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected void Finish(byte[] element)
    {
        var epoch = new Epoch(View!.ViewId, Run);
        _membersDigest ??= KeySchedule.MembersDigest(View.Members);
        byte[] transcript = KeySchedule.TranscriptHash(Protocol, Options.Group, Dh, epoch, _membersDigest, _transcript);
        (byte[] key, byte[] confirmation) = KeySchedule.Derive(element, transcript);
        LastElementDigestBefore = LastElementDigest;
        LastElementDigest = SHA256.HashData(element);
        CryptographicOperations.ZeroMemory(element);
        if (LastKey is not null)
        {
            CryptographicOperations.ZeroMemory(LastKey);
        }

        LastKey = (byte[])key.Clone();
        CurrentEpoch = epoch;
        IsSettled = true;
        _outputs.Add(new KeyEstablished(epoch, key, confirmation) { CostStamp = Counter.TotalExponentiations });
    }

    /// <summary>element^scalar for an element that came from another member: validated first where the group needs it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected byte[] ExpReceived(byte[] element, byte[] scalar)
    {
        if (!Dh.ExpValidatesInput && !Dh.IsValidElement(element, Counter))
        {
            throw new CryptographicException("Received element is not in the group.");
        }

        return Dh.Exp(element, scalar, Counter);
    }

    /// <summary>Validation at receipt for elements stored for later use.</summary>
    protected bool IsValidReceived(byte[] element) => Dh.IsValidElement(element, Counter);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected static void Erase(byte[]? secret)
    {
        if (secret is not null)
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected static void WriteState(IncrementalHash hash, byte[]? value)
    {
        hash.AppendData(value is null ? [0] : [1]);
        if (value is not null)
        {
            hash.AppendData(value);
        }
    }

    protected static void WriteState(IncrementalHash hash, string value) => hash.AppendData(System.Text.Encoding.UTF8.GetBytes(value + "\0"));

    /// <summary>Every secret scalar this member holds now (tests: what a removed or added member could use).</summary>
    internal abstract IEnumerable<byte[]> KnownScalars { get; }

    /// <summary>Every group element this member holds now.</summary>
    internal abstract IEnumerable<byte[]> KnownElements { get; }

    /// <summary>The group elements carried by a wire message of this protocol (what an eavesdropper learns).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal IEnumerable<byte[]> ElementsIn(byte[] wire) =>
        Envelope.TryParse(wire, out Envelope envelope) ? ElementsIn(envelope) : [];

    protected abstract IEnumerable<byte[]> ElementsIn(Envelope envelope);

    protected abstract void StartView(KeyAgreementView view);

    protected abstract Rejection Handle(Envelope envelope);

    protected abstract void Refresh();

    /// <summary>
    /// True if this member, though it sends nothing at view time, is the first to compute once a message arrives
    /// (TGDH's sponsor of a single join): the view's member digest is then made when the key is derived, not at view time.
    /// </summary>
    protected virtual bool DefersMembersDigest => false;

    /// <summary>True while a refresh this member sent has not come back yet (a second one would race it under the same run id).</summary>
    protected virtual bool OwnRefreshPending => false;

    /// <summary>True if this message may open run <c>Run + 1</c> of a settled view (a refresh).</summary>
    protected abstract bool StartsNextRun(Envelope envelope);

    /// <summary>Erases the secrets of the run in progress (shares not yet committed, inverses, pending values).</summary>
    protected abstract void AbandonRun();

    /// <summary>Erases every secret (on dispose).</summary>
    protected abstract void EraseAll();

    protected abstract void DescribeState(IncrementalHash hash);

    /// <summary>Broadcasts a message tagged with another run of this view (a refresh that opens the next run).</summary>
    protected void SendInRun(uint run, byte type, byte[] payload) => Send(null, type, payload, run);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Send(string? to, byte type, byte[] payload, uint? run = null, (int Length, Envelope.PayloadEncoder Encode)? inPlace = null)
    {
        var envelope = new Envelope
        {
            Protocol = Protocol,
            Type = type,
            ViewId = View!.ViewId,
            Run = run ?? Run,
            Group = Options.Group,
            Sender = Self,
            Recipient = to,
            Payload = payload,
        };
        byte[] wire = inPlace is { } p ? envelope.Seal(Options.Identity, Counter, p.Length, p.Encode) : envelope.Seal(Options.Identity, Counter);
        if (_sent.Count >= MaxDeferred)
        {
            _sent.Clear(); // bounded: echoes of older messages are then verified like anyone's
        }

        _sent[Digest(envelope)] = envelope.Signature;
        _outputs.Add(new SendMessage(to, wire) { CostStamp = Counter.TotalExponentiations });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Dictionary<string, int> Index(KeyAgreementView view)
    {
        var index = new Dictionary<string, int>(view.Members.Count, StringComparer.Ordinal);
        for (int i = 0; i < view.Members.Count; i++)
        {
            index[view.Members[i]] = i;
        }

        return index;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ResetRunLog()
    {
        _transcript.Clear();
        _seen.Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private StepResult Collect(Rejection rejection)
    {
        var outputs = _outputs;
        _outputs = [];
        return rejection == Rejection.None ? new StepResult(outputs, Rejection.None) : StepResult.Rejected(rejection);
    }

    private static string Digest(Envelope envelope) => Convert.ToHexString(envelope.Digest);
}
