using System.Buffers;
using Conclave.Client.Diagnostics;
using Conclave.Client.Flush;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using GroupId = Conclave.Protocol.Spread.GroupId;

namespace Conclave.Client.Secure.Internal;

/// <summary>
/// Sans-IO secure layer of one group over Flush events: runs the key agreement module on every view among the
/// members the trust policy allows, holds back the view until its key is established, seals and opens data
/// messages (SealedFormat), rejects replays, other epochs and forgeries, and refreshes keys on request.
/// </summary>
internal sealed class SecureGroupCore : IDisposable
{
    /// <summary>Key agreement broadcasts on the group: the module's wire format (unicasts go to private groups, see <see cref="PrivateKeyAgreement"/>).</summary>
    public const short KeyAgreementType = -32700;

    /// <summary>Sealed application data.</summary>
    public const short SealedType = -32699;

    /// <summary>Most earlier keys of one view kept for opening (a member that stays silent keeps them all alive).</summary>
    internal const int MaxEarlierKeysInView = 32;

    private readonly IGroupKeyAgreement _module;
    private readonly string _group;
    private readonly string _self;
    private readonly SecureGroupOptions? _options;
    // Each sender's replay and key-pruning state in this view.
    private readonly Dictionary<string, SenderState> _senders = new(StringComparer.Ordinal);
    private readonly byte[] _groupLatin1;
    private IReadOnlyList<string> _flushMembers = [];
    private string[] _members = [];
    private IReadOnlyList<string> _lastSecureMembers = [];
    private SecureViewChange _viewChange = new([], [], [], []);
    private GroupId _flushView;
    private ulong _viewId;
    private EpochCipher? _cipher;
    private int _generation;
    // Earlier keys of this view (refreshes), oldest first, with their generation (0 = the view's first key).
    private readonly List<(int Generation, EpochCipher Cipher)> _earlierInView = [];
    private bool _sealingStopped;
    private long _nextSequence;

    /// <summary>A core with the defaults: AES-256-GCM, no per-message signatures, every view member in the key.</summary>
    public SecureGroupCore(IGroupKeyAgreement module, string group, string self)
        : this(module, group, self, null)
    {
    }

    /// <summary>A core with the group's options (AEAD, trust policy, signatures); null for the defaults.</summary>
    public SecureGroupCore(IGroupKeyAgreement module, string group, string self, SecureGroupOptions? options)
    {
        _module = module;
        _group = group;
        _self = self;
        _options = options;
        _groupLatin1 = System.Text.Encoding.Latin1.GetBytes(group);
    }

    public Queue<SecureEvent> Deliveries { get; } = new();

    /// <summary>The group's name.</summary>
    public string Group => _group;

    /// <summary>Key agreement messages to send, in order: broadcasts to the group, unicasts to the addressee's private group.</summary>
    public Queue<KeyAgreementSend> Sends { get; } = new();

    /// <summary>Work the module can do before the next membership change: to run on any thread, off the receive path.</summary>
    public Queue<KeyAgreementPrecomputation> Precomputations { get; } = new();

    public SecureGroupCounters Counters { get; } = new();

    /// <summary>Metrics and logs of key agreements and refused messages.</summary>
    public ISecureGroupObserver Observer { get; init; } = NoSecureGroupObserver.Instance;

    /// <summary>True when the current view has its key, so <see cref="Seal"/> works.</summary>
    public bool HasKey => _cipher is not null && !_sealingStopped;

    /// <summary>The Flush view whose key is installed and may still seal, or null while keying or once the view is ending.</summary>
    public GroupId? KeyedView => HasKey ? _flushView : null;

    /// <summary>True once this member's leave took effect.</summary>
    public bool Left { get; private set; }

    /// <summary>True if this member is the one that asks for timed refreshes: the first key holder, with a settled key.</summary>
    public bool LeadsRefresh => HasKey && _module.IsSettled && _members.Length > 0 && _members[0] == _self;

    /// <summary>Why the module last refused a key agreement message counted in <see cref="SecureGroupCounters.KeyAgreementRejected"/> (diagnostics).</summary>
    internal Rejection LastRejection { get; private set; }

    /// <summary>The last message refused as other-epoch: its epoch, sender and the keys held then (diagnostics).</summary>
    internal string? LastOtherEpoch { get; private set; }

    /// <summary>Key agreement messages received that were addressed to another member (tests: unicasts reach only their addressee).</summary>
    internal long NotForMeReceived { get; private set; }

    /// <summary>When set, every sealed message received is copied here as it came (tests: ciphertext an eavesdropper holds).</summary>
    internal List<byte[]>? Captured { get; set; }

    /// <summary>When set, every Flush event other than data is noted here as it came (tests: where views changed under the secure views).</summary>
    internal List<string>? FlushTrace { get; set; }

    /// <summary>The installed epoch key (tests: what a member that later leaves still holds).</summary>
    internal EpochCipher? CurrentCipher => _cipher;

    private SecureAead Suite => _options?.Aead ?? SecureAead.Aes256Gcm;

    private bool SignsMessages => _options?.SignMessages ?? false;

    private bool PooledBodies => _options?.PooledMessageBodies ?? false;

    public static ulong ViewIdOf(GroupId id) => ((ulong)(uint)id.Time << 32) | (uint)id.Index;

    public void Handle(FlushEvent e)
    {
        if (FlushTrace is not null && e is not FlushDataMessage)
        {
            FlushTrace.Add(e is FlushView v ? $"flush view {v.GroupId} {v.Cause} [{string.Join(",", v.Members)}] vs [{string.Join(",", v.VsSet)}]" : e.GetType().Name);
        }

        switch (e)
        {
            case FlushView view:
                OnView(view);
                break;
            case FlushDataMessage { MessageType: KeyAgreementType } ka:
                OnKeyAgreement(ka.Sender, ka.Body.Span);
                break;
            case FlushDataMessage { MessageType: SealedType } data:
                Open(data);
                break;
            case FlushTransitionalSignal or FlushRequest:
                // The membership is about to change: a member may be gone already, so the key must not seal any more.
                _sealingStopped = true;
                break;
            case FlushSelfLeave:
                DropKeys();
                Left = true;
                _flushMembers = [];
                _members = [];
                _lastSecureMembers = [];
                Deliveries.Enqueue(new SecureLeft(_group));
                break;
        }
    }

    /// <summary>
    /// A key agreement message, from the group or (a unicast) from this member's private group. A unicast skips the
    /// Flush layer's same-view check, so the module's own checks (view id, run, sender, addressee, signature) guard it.
    /// </summary>
    public void OnKeyAgreement(string sender, ReadOnlySpan<byte> wire)
    {
        StepResult r = _module.OnMessage(wire);
        if (r.Rejection == Rejection.NotForMe)
        {
            NotForMeReceived++;
        }
        else if (r.Rejection is Rejection.StaleView or Rejection.StaleRun or Rejection.Replay)
        {
            Counters.KeyAgreementStale++;
        }
        else if (r.Rejection is not Rejection.None)
        {
            Counters.KeyAgreementRejected++;
            Observer.Rejected(SecureRejection.KeyAgreement, sender);
            LastRejection = r.Rejection;
        }

        Apply(r);
    }

    /// <summary>Asks for a new key for the same members; false while a run is in progress or the view has no key.</summary>
    public bool RequestRefresh()
    {
        if (!HasKey || !_module.IsSettled)
        {
            return false;
        }

        StepResult r = _module.RequestRefresh();
        if (r.Rejection != Rejection.None)
        {
            return false;
        }

        Counters.RunsStarted++;
        Observer.KeyAgreementStarted(_members.Length);
        Apply(r);
        return true;
    }

    /// <summary>Seals a message under the current key, or returns null while the view has none.</summary>
    public byte[]? Seal(short messageType, ReadOnlySpan<byte> plaintext)
    {
        var sealedMessage = new byte[SealedLength(plaintext.Length)];
        return TrySeal(messageType, plaintext, sealedMessage) ? sealedMessage : null;
    }

    /// <summary>The length of the sealed message of a plaintext of <paramref name="plaintextLength"/> bytes.</summary>
    public int SealedLength(int plaintextLength) =>
        SealedFormat.HeaderSize + plaintextLength + (SignsMessages ? SealedFormat.SignatureSize : 0) + EpochCipher.TagSize;

    /// <summary>
    /// Seals a message under the current key into <paramref name="destination"/>, exactly <see cref="SealedLength"/> bytes
    /// (a pooled buffer or the outgoing frame: no allocation unless signed); false, writing nothing, while the view has no key.
    /// </summary>
    public bool TrySeal(short messageType, ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        if (!HasKey || _cipher is not EpochCipher cipher)
        {
            return false;
        }

        if (destination.Length != SealedLength(plaintext.Length))
        {
            throw new ArgumentException("The destination is not the sealed message's length.", nameof(destination));
        }

        bool signed = SignsMessages;
        int inner = plaintext.Length + (signed ? SealedFormat.SignatureSize : 0);
        long sequence = _nextSequence++;
        Span<byte> header = destination[..SealedFormat.HeaderSize];
        SealedFormat.WriteHeader(header, cipher.Suite, signed, cipher.Epoch, sequence, messageType);
        Span<byte> ad = AssociatedData(header, _self, stackalloc byte[SealedFormat.StackAssociatedDataSize]);
        Span<byte> ciphertext = destination.Slice(SealedFormat.HeaderSize, inner);
        Span<byte> tag = destination[(SealedFormat.HeaderSize + inner)..];
        if (signed)
        {
            byte[] content = new byte[inner];
            plaintext.CopyTo(content);
            _options!.Identity.Sign(SealedFormat.SignedContent(ad, plaintext)).CopyTo(content.AsSpan(plaintext.Length));
            cipher.Seal(_self, sequence, content, ciphertext, tag, ad);
        }
        else
        {
            cipher.Seal(_self, sequence, plaintext, ciphertext, tag, ad);
        }

        return true;
    }

    public void Dispose()
    {
        DropKeys();
        _module.Dispose();
    }

    private void OnView(FlushView view)
    {
        // Nothing may be sealed under a key a departed member knows: the old keys go with the old view.
        DropKeys();
        _sealingStopped = false;
        Left = false;
        IReadOnlyList<string> previousFlush = _flushMembers;
        _flushMembers = view.Members;
        string[] keyed = [.. view.Members.Where(Trusted)];
        string[] excluded = [.. view.Members.Where(m => !Trusted(m))];
        string[] previous = _members;
        _members = keyed;
        _viewId = ViewIdOf(view.GroupId);
        _flushView = view.GroupId;
        _viewChange = new SecureViewChange(
            KeyEvents(view, previousFlush),
            [.. keyed.Except(_lastSecureMembers, StringComparer.Ordinal)],
            [.. _lastSecureMembers.Except(keyed, StringComparer.Ordinal)],
            excluded);
        if (!keyed.Contains(_self, StringComparer.Ordinal))
        {
            // Our own policy leaves us out: we can take no part in this view's key.
            return;
        }

        // Only members that came with us from our previous view share our key agreement state (view synchrony: they
        // delivered the same key agreement messages). Any other member is new to this run, even one that was in our
        // previous view but reached this one from another component: it may hold state we no longer share.
        HashSet<string> cameAlong = CameAlong(view, previousFlush);
        // Sets, not lists: every member of an n-member group does this per view, n² lookups each would add up to n³.
        var wasKeyed = new HashSet<string>(previous, StringComparer.Ordinal);
        var isKeyed = new HashSet<string>(keyed, StringComparer.Ordinal);
        string[] joined = [.. keyed.Where(m => m != _self && !(cameAlong.Contains(m) && wasKeyed.Contains(m)))];
        string[] left = [.. previous.Where(m => m != _self && !(cameAlong.Contains(m) && isKeyed.Contains(m)))];
        Counters.RunsStarted++;
        Observer.KeyAgreementStarted(keyed.Length);
        Apply(_module.OnView(new KeyAgreementView(_viewId, keyed, joined, left)));
    }

    /// <summary>
    /// The members of our previous Flush view that moved with us into <paramref name="view"/>, us included: the vs-set
    /// of a network change; everyone but the joiner of a join (a joiner came alone); everyone of a leave or disconnect.
    /// </summary>
    private HashSet<string> CameAlong(FlushView view, IReadOnlyList<string> previousFlush)
    {
        var along = new HashSet<string>(StringComparer.Ordinal) { _self };
        if (previousFlush.Count == 0 || (view.Cause == MembershipCause.Join && view.VsSet.Contains(_self, StringComparer.Ordinal)))
        {
            return along;
        }

        IEnumerable<string> stayed = view.Cause switch
        {
            MembershipCause.Network => view.VsSet,
            MembershipCause.Join => previousFlush.Where(m => !view.VsSet.Contains(m, StringComparer.Ordinal)),
            _ => previousFlush,
        };
        var members = new HashSet<string>(view.Members, StringComparer.Ordinal);
        along.UnionWith(stayed.Where(members.Contains));
        return along;
    }

    /// <summary>The paper's Table 1: join → Join; leave, disconnect, partition → Leave; merge → Merge; both → Leave then Merge.</summary>
    private static SecureKeyEvent[] KeyEvents(FlushView view, IReadOnlyList<string> previous)
    {
        if (previous.Count == 0)
        {
            return [SecureKeyEvent.Join];
        }

        bool someLeft = previous.Except(view.Members, StringComparer.Ordinal).Any();
        bool someCame = view.Members.Except(previous, StringComparer.Ordinal).Any();
        return view.Cause switch
        {
            MembershipCause.Join => [SecureKeyEvent.Join],
            MembershipCause.Leave or MembershipCause.Disconnect => [SecureKeyEvent.Leave],
            _ when someLeft && someCame => [SecureKeyEvent.Leave, SecureKeyEvent.Merge],
            _ when someLeft => [SecureKeyEvent.Leave],
            _ when someCame => [SecureKeyEvent.Merge],
            _ => [],
        };
    }

    private bool Trusted(string member) => _options is null || _options.Trust.Allows(member, _options.Directory);

    private void Apply(StepResult result)
    {
        if (_module.TakePrecomputation() is KeyAgreementPrecomputation work)
        {
            Precomputations.Enqueue(work);
        }

        foreach (KeyAgreementOutput output in result.Outputs)
        {
            switch (output)
            {
                case SendMessage send:
                    Sends.Enqueue(new KeyAgreementSend(send.To, send.Wire, _flushView));
                    Observer.KeyAgreementSent(_members.Length);
                    break;
                case KeyEstablished key when key.Epoch.ViewId == _viewId && !Left:
                    InstallKey(key);
                    break;
            }
        }
    }

    private void InstallKey(KeyEstablished key)
    {
        SecureViewChange change;
        if (_cipher is not null)
        {
            // A refresh within the view: the same members hold every key of the view, so messages sealed under an
            // earlier one before the sender saw the refreshes since are still opened. A lagging sender can be more
            // than one refresh behind (seen under load: three messages sealed two refreshes back), so the earlier
            // keys stay until every member has sealed under a newer one (PruneEarlierKeys).
            _earlierInView.Add((_generation, _cipher));
            _generation++;
            if (_earlierInView.Count > MaxEarlierKeysInView)
            {
                _earlierInView[0].Cipher.Dispose();
                _earlierInView.RemoveAt(0);
            }

            change = new SecureViewChange([SecureKeyEvent.Refresh], [], [], _viewChange.Excluded);
        }
        else
        {
            _generation = 0;
            change = _viewChange;
        }

        _cipher = new EpochCipher(Suite, key.Key, _group, key.Epoch);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(key.Key);
        Counters.KeysInstalled++;
        Observer.KeyEstablished(key.Epoch.ToString(), _members.Length);
        _lastSecureMembers = _members;
        Deliveries.Enqueue(new SecureView(_group, _members, key.Epoch.ToString(), key.Confirmation[..8], change));
    }

    private void DropKeys()
    {
        _cipher?.Dispose();
        _cipher = null;
        foreach ((int _, EpochCipher earlier) in _earlierInView)
        {
            earlier.Dispose();
        }

        _earlierInView.Clear();
        _senders.Clear();
        _generation = 0;
        _nextSequence = 0;
    }

    private void Open(FlushDataMessage data)
    {
        ReadOnlySpan<byte> wire = data.Body.Span;
        Captured?.Add(wire.ToArray());
        if (!SealedFormat.TryReadHeader(wire, out SealedFormat.Header header) || header.Suite != Suite || Array.IndexOf(_members, data.Sender) < 0)
        {
            Counters.Forged++;
            Observer.Rejected(SecureRejection.Forged, data.Sender);
            return;
        }

        (EpochCipher? cipher, int generation) = CipherOf(header.Epoch);
        if (cipher is null)
        {
            LastOtherEpoch = $"{header.Epoch} from {data.Sender} (sequence {header.Sequence}) while holding {_cipher?.Epoch.ToString() ?? "no key"}{string.Concat(_earlierInView.Select(e => $", {e.Cipher.Epoch}"))}";
            Counters.OtherEpoch++;
            Observer.Rejected(SecureRejection.OtherEpoch, data.Sender);
            return;
        }

        _senders.TryGetValue(data.Sender, out SenderState? sender);
        if (header.Sequence <= (sender?.LastSequence ?? -1))
        {
            Counters.Replays++;
            Observer.Rejected(SecureRejection.Replay, data.Sender);
            return;
        }

        // Decrypted straight from the received buffer into the body handed to the application: no other copy.
        ReadOnlySpan<byte> ciphertext = wire[SealedFormat.HeaderSize..^EpochCipher.TagSize];
        bool pooled = PooledBodies;
        byte[] plaintext = pooled ? ArrayPool<byte>.Shared.Rent(ciphertext.Length) : new byte[ciphertext.Length];
        Span<byte> opened = plaintext.AsSpan(0, ciphertext.Length);
        ReadOnlySpan<byte> ad = AssociatedData(wire[..SealedFormat.HeaderSize], data.Sender, stackalloc byte[SealedFormat.StackAssociatedDataSize]);
        if (!cipher.TryOpen(data.Sender, header.Sequence, ciphertext, wire[^EpochCipher.TagSize..], opened, ad))
        {
            Discard(plaintext, pooled);
            Counters.Forged++;
            Observer.Rejected(SecureRejection.Forged, data.Sender);
            return;
        }

        int bodyLength = opened.Length;
        if (header.Signed != SignsMessages || (header.Signed && !TryStripSignature(data.Sender, ad, opened, out bodyLength)))
        {
            Discard(plaintext, pooled);
            Counters.BadSignature++;
            Observer.Rejected(SecureRejection.Forged, data.Sender); // a bad signature is a forgery by an insider
            return;
        }

        if (sender is null)
        {
            sender = new SenderState();
            _senders[data.Sender] = sender;
        }

        sender.LastSequence = header.Sequence;
        if (generation > sender.NewestGeneration)
        {
            sender.NewestGeneration = generation;
            PruneEarlierKeys();
        }

        Deliveries.Enqueue(new SecureMessage(_group, data.Sender, header.MessageType, plaintext, bodyLength, pooled));
    }

    /// <summary>A refused message's plaintext buffer: a pooled one goes back cleared (it may hold a forger's decryption attempt).</summary>
    private static void Discard(byte[] plaintext, bool pooled)
    {
        if (pooled)
        {
            ArrayPool<byte>.Shared.Return(plaintext, clearArray: true);
        }
    }

    /// <summary>The key of <paramref name="epoch"/> if this view still holds it, with its generation.</summary>
    private (EpochCipher? Cipher, int Generation) CipherOf(Epoch epoch)
    {
        if (_cipher is not null && epoch == _cipher.Epoch)
        {
            return (_cipher, _generation);
        }

        foreach ((int generation, EpochCipher earlier) in _earlierInView)
        {
            if (epoch == earlier.Epoch)
            {
                return (earlier, generation);
            }
        }

        return (null, 0);
    }

    /// <summary>Drops the earlier keys that no member can seal under any more: each has sealed under a newer one.</summary>
    private void PruneEarlierKeys()
    {
        if (_earlierInView.Count == 0)
        {
            return;
        }

        int oldestInUse = int.MaxValue;
        foreach (string member in _members)
        {
            oldestInUse = Math.Min(oldestInUse, _senders.TryGetValue(member, out SenderState? sender) ? sender.NewestGeneration : 0);
        }

        while (_earlierInView.Count > 0 && _earlierInView[0].Generation < oldestInUse)
        {
            _earlierInView[0].Cipher.Dispose();
            _earlierInView.RemoveAt(0);
        }
    }

    /// <summary>The associated data of a message of <paramref name="sender"/>, in <paramref name="stack"/> when it fits.</summary>
    private Span<byte> AssociatedData(ReadOnlySpan<byte> header, string sender, Span<byte> stack)
    {
        int length = SealedFormat.AssociatedDataLength(_groupLatin1.Length, sender.Length);
        Span<byte> ad = length <= stack.Length ? stack : new byte[length];
        return ad[..SealedFormat.WriteAssociatedData(ad, header, _groupLatin1, sender)];
    }

    /// <summary>Verifies the signature at the end of <paramref name="plaintext"/>; the body is what precedes it.</summary>
    private bool TryStripSignature(string sender, ReadOnlySpan<byte> ad, ReadOnlySpan<byte> plaintext, out int bodyLength)
    {
        bodyLength = 0;
        if (plaintext.Length < SealedFormat.SignatureSize || !_options!.Directory.TryGet(sender, out byte[] publicKey))
        {
            return false;
        }

        int length = plaintext.Length - SealedFormat.SignatureSize;
        if (!MemberIdentity.Verify(publicKey, SealedFormat.SignedContent(ad, plaintext[..length]), plaintext[length..]))
        {
            return false;
        }

        bodyLength = length;
        return true;
    }
}
