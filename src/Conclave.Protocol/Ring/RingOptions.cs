namespace Conclave.Protocol.Ring;

/// <summary>
/// Timeouts (microseconds) and constants of the ring (ring-protocol.md §2.7–§2.8). The defaults are
/// scaled for a LAN and for the simulator; the relations consensus ≥ join, consensus &gt; token and
/// retransmit &lt; token are checked by <see cref="Validate"/>.
/// </summary>
public sealed record RingOptions
{
    /// <summary>Token loss timeout.</summary>
    public long TokenTimeoutUs { get; init; } = 200_000;
    /// <summary>Token retransmit timeout.</summary>
    public long TokenRetransmitTimeoutUs { get; init; } = 45_000;
    /// <summary>Join re-send period in GATHER.</summary>
    public long JoinTimeoutUs { get; init; } = 25_000;
    /// <summary>Consensus timeout in GATHER.</summary>
    public long ConsensusTimeoutUs { get; init; } = 240_000;
    /// <summary>Representative's MergeDetect period.</summary>
    public long MergeTimeoutUs { get; init; } = 100_000;
    /// <summary>
    /// How long the representative holds a token that has come round idle <see cref="SeqUnchangedConst"/>
    /// times, so an idle ring does not spin; a local submission or a TokenHoldCancel releases it at once.
    /// Default 2 ms: short, so that a cancel lost on the network (or a path that sends none) costs at most
    /// that, while an idle ring still makes only one rotation per hold (measured: three idle daemons use
    /// about as little CPU at 1–5 ms as at 36 ms, docs/benchmarks.md). 0: never hold. Null: 0.8 × the token
    /// retransmit timeout, as Spread (ring-protocol.md §2.8).
    /// </summary>
    public long? TokenHoldTimeoutUs { get; init; } = 2_000;
    /// <summary>
    /// Idle token visits (seq unchanged) before the keeper holds the token. Totem's 30 suits dedicated hosts; where
    /// daemons share cores with their clients, each idle rotation is CPU the clients lack: a secure join of 50 members
    /// over three daemons cost 225 token visits at 30, 114 at 8 and 66 at 6 (docs/benchmarks-groups.md), while a steady
    /// stream never idles and the round trip to self does not change (47 against 48 µs at 6, scripts/bench-ring.sh). At 6 a
    /// burst that finds the token idle-held rather than kept went out bundled without keeps (TokenKeepTests).
    /// </summary>
    public int SeqUnchangedConst { get; init; } = 8;

    /// <summary>
    /// The fewest idle visits allowed before a hold: members send their TokenHoldCancel from two visits before it, and an
    /// idle hold does not wait for SAFE deliveries the way a keep does, so one or two visits could hold a token that
    /// another rotation would have made a SAFE message deliverable with.
    /// </summary>
    public const int MinSeqUnchangedConst = 3;
    /// <summary>
    /// Most messages one token visit may send (continuations included) and still keep the token for the sender's
    /// next submission. A low-rate lone sender then finds the token at hand; a sender with a stream of submissions
    /// passes it on, so its messages travel bundled, several to a packet, instead of one packet per submission
    /// (measured: keeping without this cap cut 1 KB throughput by a third). 0: never keep.
    /// </summary>
    public int TokenKeepMaxMessages { get; init; } = 8;
    /// <summary>
    /// Emit per-message Send/Deliver trace events (each hashes its payload). The simulator's checker needs
    /// them; a daemon that records no trace turns them off. Configuration and boot events are always emitted.
    /// </summary>
    public bool TraceMessages { get; init; } = true;
    /// <summary>Flow-control window: messages in flight per rotation.</summary>
    public int WindowSize { get; init; } = 50;
    /// <summary>Maximum new messages one processor sends per token visit.</summary>
    public int MaxMessages { get; init; } = 17;
    /// <summary>Token visits with a stuck aru before its holder is declared failed (FR1).</summary>
    public int FailToReceiveConst { get; init; } = 250;
    /// <summary>Token visits a seq must be missing before it is requested (T6).</summary>
    public int MissCountConst { get; init; } = 5;
    /// <summary>Maximum retransmission requests on the token.</summary>
    public int RtrMax { get; init; } = 30;
    /// <summary>Sort-queue capacity guarded by F4.</summary>
    public int QueueCapacity { get; init; } = 2000;
    /// <summary>Largest payload accepted by <c>Submit</c>.</summary>
    public int MaxPayload { get; init; } = 60_000;

    /// <summary>The token hold period in effect (0: never hold).</summary>
    public long EffectiveTokenHoldUs => TokenHoldTimeoutUs ?? TokenRetransmitTimeoutUs * 4 / 5;

    /// <summary>Throws if the timer relations of ring-protocol.md §2.8 do not hold.</summary>
    public void Validate()
    {
        if (ConsensusTimeoutUs < JoinTimeoutUs || ConsensusTimeoutUs <= TokenTimeoutUs || TokenRetransmitTimeoutUs >= TokenTimeoutUs)
        {
            throw new ArgumentException("Ring timers must satisfy consensus >= join, consensus > token, retransmit < token.");
        }
        if (EffectiveTokenHoldUs < 0 || EffectiveTokenHoldUs >= TokenRetransmitTimeoutUs || SeqUnchangedConst < MinSeqUnchangedConst || TokenKeepMaxMessages < 0)
        {
            throw new ArgumentException($"The token hold must be shorter than the token retransmit timeout (the predecessor would resend the token), SeqUnchangedConst at least {MinSeqUnchangedConst} and TokenKeepMaxMessages not negative.");
        }
        if (WindowSize <= 0 || MaxMessages <= 0 || QueueCapacity <= WindowSize)
        {
            throw new ArgumentException("Ring flow-control constants are out of range.");
        }
    }
}
