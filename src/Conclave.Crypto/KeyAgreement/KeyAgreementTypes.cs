namespace Conclave.Crypto.KeyAgreement;

/// <summary>The key agreement protocols Conclave implements.</summary>
public enum KeyAgreementProtocol : byte
{
    /// <summary>Cliques GDH as in the paper (§4): contributory, controller = newest member.</summary>
    Gdh = 1,

    /// <summary>Centralised key distribution (paper Appendix A): controller = oldest member.</summary>
    Ckd = 2,

    /// <summary>Tree-based group Diffie-Hellman (Kim, Perrig, Tsudik): contributory, O(log n).</summary>
    Tgdh = 3,
}

/// <summary>A membership view as the secure layer hands it to a key agreement module.</summary>
/// <param name="ViewId">The view's identifier, increasing from view to view.</param>
/// <param name="Members">All members in the agreed order, oldest first; identical at every member.</param>
/// <param name="Joined">
/// Members that did not come with this member from its previous view (for a new member: everyone else). A member of the
/// previous view that reached this one by another way (it was in another component meanwhile) is listed here too: the
/// module drops whatever state it shared with it and treats it as new.
/// </param>
/// <param name="Left">Members of this member's previous view that did not come with it into this one.</param>
public sealed record KeyAgreementView(ulong ViewId, IReadOnlyList<string> Members, IReadOnlyList<string> Joined, IReadOnlyList<string> Left);

/// <summary>Names one group key: the view and the key agreement run within it.</summary>
public readonly record struct Epoch(ulong ViewId, uint Run)
{
    /// <inheritdoc />
    public override string ToString() => $"{ViewId}.{Run}";
}

/// <summary>Something a module asks its host to do.</summary>
public abstract record KeyAgreementOutput
{
    /// <summary>The member's exponentiation count when the output was produced (for serial-cost measurements).</summary>
    internal long CostStamp { get; init; }
}

/// <summary>Send <see cref="Wire"/> to one member (<see cref="To"/>) or, when <see cref="To"/> is null, to the whole group.</summary>
public sealed record SendMessage(string? To, byte[] Wire) : KeyAgreementOutput
{
    /// <summary>True for a group broadcast.</summary>
    public bool IsBroadcast => To is null;
}

/// <summary>A new group key: every member of the view ends with the same key and confirmation.</summary>
/// <param name="Epoch">The view and run the key belongs to.</param>
/// <param name="Key">32 bytes from HKDF over the group secret and the run's transcript.</param>
/// <param name="Confirmation">A value derived from the key that members may publish and compare.</param>
public sealed record KeyEstablished(Epoch Epoch, byte[] Key, byte[] Confirmation) : KeyAgreementOutput;

/// <summary>Why a received message was refused. A refused message never changes the module's state.</summary>
public enum Rejection
{
    /// <summary>Accepted.</summary>
    None,

    /// <summary>Could not be parsed.</summary>
    Malformed,

    /// <summary>For another group or protocol, or the wrong DH group.</summary>
    WrongContext,

    /// <summary>Of an old (or not yet installed) view.</summary>
    StaleView,

    /// <summary>Of another key agreement run of this view.</summary>
    StaleRun,

    /// <summary>The sender is not a member of the view or has no trusted key.</summary>
    UnknownSender,

    /// <summary>A unicast addressed to someone else.</summary>
    NotForMe,

    /// <summary>The signature does not verify.</summary>
    BadSignature,

    /// <summary>Already received in this run.</summary>
    Replay,

    /// <summary>Not expected from this sender in this state.</summary>
    Unexpected,

    /// <summary>Carries an invalid group element or inconsistent contents.</summary>
    Invalid,
}

/// <summary>The outcome of one input to a module.</summary>
public sealed class StepResult
{
    internal static readonly StepResult Empty = new([], Rejection.None);

    internal StepResult(IReadOnlyList<KeyAgreementOutput> outputs, Rejection rejection)
    {
        Outputs = outputs;
        Rejection = rejection;
    }

    /// <summary>Messages to send and keys established, in order.</summary>
    public IReadOnlyList<KeyAgreementOutput> Outputs { get; }

    /// <summary>Why the input was refused, or <see cref="Rejection.None"/>.</summary>
    public Rejection Rejection { get; }

    internal static StepResult Rejected(Rejection why) => new([], why);
}

/// <summary>What a module needs: who it is, whom it trusts, where it computes and where it takes randomness.</summary>
public sealed class KeyAgreementOptions
{
    /// <summary>The secure group's name (bound into every message and key).</summary>
    public required string Group { get; init; }

    /// <summary>This member's name, as it appears in views.</summary>
    public required string Self { get; init; }

    /// <summary>This member's long-term signing key.</summary>
    public required MemberIdentity Identity { get; init; }

    /// <summary>The trusted public keys of all possible members.</summary>
    public required MemberDirectory Directory { get; init; }

    /// <summary>The DH group; ristretto255 unless set.</summary>
    public DhGroup DhGroup { get; init; } = DhGroup.Ristretto255;

    /// <summary>Randomness for shares; the system CSPRNG unless set (tests inject a seeded source).</summary>
    public IRandomSource Random { get; init; } = SystemRandomSource.Instance;

    /// <summary>Where this member's operations are counted.</summary>
    public OperationCounter Counter { get; init; } = new();

    /// <summary>
    /// TGDH only, tests: a sponsor publishing this many blinded keys or more sends them in two parts (key-agreement.md
    /// §6.3); 0, the default, publishes in one part. Only what this member sends depends on it: members accept both.
    /// </summary>
    internal int TgdhSplitFrom { get; init; }
}

/// <summary>A group key agreement protocol instance for one member: a sans-IO state machine.</summary>
/// <remarks>
/// Inputs are views and received messages; outputs are messages to send and established keys. A new view
/// abandons any run in progress and starts again from the new membership (robust key agreement); roles are
/// a deterministic function of the view. The host must deliver every view before the messages sent in it,
/// deliver broadcasts in one agreed order to every member including the sender, and unicasts in FIFO order.
/// </remarks>
public interface IGroupKeyAgreement : IDisposable
{
    /// <summary>The protocol this module runs.</summary>
    KeyAgreementProtocol Protocol { get; }

    /// <summary>The epoch of the last key established, if any.</summary>
    Epoch? CurrentEpoch { get; }

    /// <summary>True when no run is in progress and the current view has a key.</summary>
    bool IsSettled { get; }

    /// <summary>Starts key agreement for a new view.</summary>
    StepResult OnView(KeyAgreementView view);

    /// <summary>Processes a key agreement message received from the group.</summary>
    StepResult OnMessage(ReadOnlySpan<byte> wire);

    /// <summary>Asks for a new key in the same view (the controller refreshes; others ask it to, or in TGDH refresh their own leaf).</summary>
    StepResult RequestRefresh();

    /// <summary>
    /// Work to run before the next membership change, on any thread (off the receive path), or null if there is none.
    /// Ask after every step; each piece of work is handed out once. Not running it is always safe.
    /// </summary>
    KeyAgreementPrecomputation? TakePrecomputation() => null;
}
