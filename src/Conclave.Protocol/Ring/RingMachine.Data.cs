using Conclave.Protocol.Ring.Wire;

namespace Conclave.Protocol.Ring;

// Per-processor state (ring-protocol.md §1.9). Queues are keyed by seq and only ever walked by seq
// ranges, so no decision depends on hash iteration order.
public sealed partial class RingMachine
{
    private uint[] MyMemb = [];
    private RingId _lastRegRingId;
    private readonly SortedSet<uint> ProcSet = [];
    private readonly SortedSet<uint> FailSet = [];
    private readonly SortedSet<uint> _consensus = [];
    private uint[] _newMemb = [];
    private uint[] _transMemb = [];

    private ulong _myAru;
    private ulong _myHighSeqReceived;
    private ulong _myHighDelivered;
    private ulong _stable;
    private ulong _myLastAru;
    private long _myTokenSeq = -1;
    private ulong _ftrLastAru;
    private int _aruCount;
    private ulong _lastReleased;

    private int _retransFlagCount;
    private bool _mySetRetransFlag;
    private ulong _installSeq;
    private int _rotationCounter;
    private bool _originatedOrfToken;

    private OldRingSnapshot? _oldRing;
    private ulong _lowRingAru;
    private ulong _oldStable;
    private ulong _highRingDelivered;

    private Dictionary<ulong, McastMessage> _regularQueue = [];
    private Dictionary<ulong, McastMessage> _recoveryQueue = [];
    private readonly Dictionary<ulong, int> _missCount = [];
    private readonly HashSet<ulong> _retransmittedSeqs = [];
    private readonly Queue<PendingSend> _newMessages = new();
    private readonly Queue<McastMessage> _retransMessages = new();

    private int _myTrc;
    private int _myPbl;

    private byte[]? _lastTokenPacket;
    private uint _lastTokenDestination;

    internal ulong PersistedSeq { get; private set; }
    internal ulong HighestSeenRingSeq { get; private set; }

    /// <summary>The old-ring state saved once per membership episode (C2.1), restored by RC10.</summary>
    private sealed class OldRingSnapshot(RingId ringId, ulong aru, ulong highSeqReceived, ulong stable)
    {
        public RingId RingId { get; } = ringId;
        public ulong Aru { get; } = aru;
        public ulong HighSeqReceived { get; set; } = highSeqReceived;
        public ulong Stable { get; } = stable;
    }

    internal bool IsMember(uint node) => Array.BinarySearch(MyMemb, node) >= 0;

    internal bool InNewMemb(uint node) => Array.BinarySearch(_newMemb, node) >= 0;

    internal bool HasOldRingSnapshot => _oldRing is not null;

    internal bool InProcSet(uint node) => ProcSet.Contains(node);

    /// <summary>§3.6: a lower-seq ring id from a current member is a late copy from my own earlier ring.</summary>
    internal bool IsStaleFromMember(RingId ring, uint sender) => ring.Seq < MyRingId.Seq && IsMember(sender);

    private uint[] RingMembers => State == RingState.Recovery ? _newMemb : MyMemb;

    private uint Successor(uint[] members)
    {
        foreach (uint n in members)
        {
            if (n > MyId) return n;
        }
        return members[0];
    }
}

public sealed partial class RingMachine
{
    internal string DebugSets => $"[{string.Join(",", ProcSet)}]/[{string.Join(",", FailSet)}] cons=[{string.Join(",", _consensus)}]";

    internal string DebugState =>
        $"{State} ring={MyRingId} memb=[{string.Join(",", MyMemb)}] aru={_myAru} hsr={_myHighSeqReceived} hd={_myHighDelivered} stable={_stable} lastAru={_myLastAru} rel={_lastReleased} q={_regularQueue.Count} pend={_newMessages.Count} tokseq={_myTokenSeq} rq={_retransMessages.Count} rfc={_retransFlagCount} set={_mySetRetransFlag} inst={_installSeq} rot={_rotationCounter} trans=[{string.Join(",", _transMemb)}]";
}
