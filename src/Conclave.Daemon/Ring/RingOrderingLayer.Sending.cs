using Conclave.Protocol.Groups;
using Conclave.Protocol.Ring;

namespace Conclave.Daemon.Ring;

/// <summary>
/// The sending side: queues, packing, fragmentation and restarts at configuration changes. The ring
/// takes payloads from here only while it holds the token (<see cref="IRingSendSource"/>), so nothing
/// of ours waits inside the ring, and at a configuration change every unsent message is still here.
/// </summary>
internal sealed partial class RingOrderingLayer : IRingSendSource
{
    private readonly Queue<Outgoing> _small = new();
    private readonly Queue<Outgoing> _smallState = new();
    private readonly List<Outgoing> _large = [];
    private readonly List<Outgoing> _inFlight = [];
    private readonly Dictionary<string, Queue<Outgoing>> _heldBySender = new(StringComparer.Ordinal);
    private readonly List<byte[]> _bundle = [];
    private uint _nextFragmentId;
    private int _held;

    /// <summary>
    /// Messages and fragmented messages the ring may take now: during a state exchange only the
    /// group-state ones (client requests are held, J6), so an idle ring may still hold its token.
    /// </summary>
    public int Backlog => _listener.HoldsClientRequests
        ? _smallState.Count + _large.Count(o => o.IsState)
        : _smallState.Count + _small.Count + _large.Count + _held;

    /// <summary>Messages that left packed with others in one ring payload.</summary>
    public long BundledMessages { get; private set; }

    /// <summary>Large messages sent again after a configuration change interrupted them.</summary>
    public long RestartedMessages { get; private set; }

    /// <inheritdoc />
    public void Submit(GroupMessage message)
    {
        byte[] encoded = GroupMessageCodec.Encode(message);
        int count = encoded.Length <= _settings.FragmentSize ? 1 : (encoded.Length + _settings.FragmentSize - 1) / _settings.FragmentSize;
        var outgoing = new Outgoing(message.Sender, encoded, ServiceOf(message), count, message.Kind == GroupMessageKind.Groups);
        if (_heldBySender.TryGetValue(message.Sender, out Queue<Outgoing>? held))
        {
            held.Enqueue(outgoing);
            _held++;
        }
        else
        {
            Schedule(outgoing);
        }

        _ring.OnSendable(_clock());
        Pump();
    }

    private void Schedule(Outgoing outgoing)
    {
        if (outgoing.Count == 1)
        {
            (outgoing.IsState ? _smallState : _small).Enqueue(outgoing);
            return;
        }

        outgoing.FragmentId = ++_nextFragmentId;
        _large.Add(outgoing);
        _heldBySender[outgoing.Sender] = new Queue<Outgoing>();
    }

    /// <summary>
    /// The ring holds the token: small messages first (packed), then the oldest large message's next
    /// fragment. Group-state messages go first, and during a state exchange they alone go (J6: a
    /// client request taken now would be delivered inside the exchange).
    /// </summary>
    bool IRingSendSource.TryTake(out byte[] payload, out RingService service)
    {
        bool hold = _listener.HoldsClientRequests;
        Queue<Outgoing> smallQueue = _smallState.Count > 0 || hold ? _smallState : _small;
        if (smallQueue.TryDequeue(out Outgoing? small))
        {
            payload = PackSmall(smallQueue, small);
            service = small.Service;
            return true;
        }

        int index = hold ? _large.FindIndex(o => o.IsState) : _large.Count > 0 ? 0 : -1;
        if (index < 0)
        {
            payload = [];
            service = default;
            return false;
        }

        Outgoing large = _large[index];
        int size = _settings.FragmentSize;
        int from = large.Next * size;
        ReadOnlySpan<byte> chunk = large.Encoded.AsSpan(from, Math.Min(size, large.Encoded.Length - from));
        // Only the last fragment needs the message's service: the message is delivered at its position.
        service = large.Next == large.Count - 1 ? large.Service : RingService.Agreed;
        payload = Fragment.Piece(large.FragmentId, large.Next, large.Count, chunk);
        if (++large.Next == large.Count)
        {
            // Its last fragment is on the ring: it will be delivered in this configuration, so the
            // sender's later messages may follow it now (they are ordered after it by the ring).
            _large.RemoveAt(index);
            _inFlight.Add(large);
            Release(large.Sender);
        }

        return true;
    }

    /// <summary>
    /// <paramref name="first"/> alone, or packed with the small messages queued behind it that share
    /// its service, up to one fragment's size: a backlog leaves in a few full payloads.
    /// </summary>
    private byte[] PackSmall(Queue<Outgoing> queue, Outgoing first)
    {
        int size = 1 + Bundle.EntrySize(first.Encoded);
        _bundle.Clear();
        _bundle.Add(first.Encoded);
        while (queue.TryPeek(out Outgoing? next) && next.Service == first.Service
               && size + Bundle.EntrySize(next.Encoded) <= _settings.FragmentSize)
        {
            queue.Dequeue();
            _bundle.Add(next.Encoded);
            size += Bundle.EntrySize(next.Encoded);
        }

        byte[] payload = _bundle.Count == 1 ? Fragment.Whole(first.Encoded) : Bundle.Pack(_bundle, size);
        BundledMessages += _bundle.Count > 1 ? _bundle.Count : 0;
        _bundle.Clear();
        return payload;
    }

    /// <summary>One of this daemon's fragments came back in the total order.</summary>
    private void OwnFragmentDelivered(byte[] payload)
    {
        if (Fragment.TryReadPiece(payload, out uint id, out int index, out int count) && index == count - 1
            && Find(_inFlight, id) is { } done)
        {
            _inFlight.Remove(done);
        }
    }

    /// <summary>The large message of <paramref name="sender"/> is on the ring: its held messages go on.</summary>
    private void Release(string sender)
    {
        if (!_heldBySender.Remove(sender, out Queue<Outgoing>? held))
        {
            return;
        }

        while (held.TryDequeue(out Outgoing? next))
        {
            _held--;
            if (next.Count == 1)
            {
                (next.IsState ? _smallState : _small).Enqueue(next);
                continue;
            }

            // Another large one: the rest keep waiting, behind it, in the same queue.
            next.FragmentId = ++_nextFragmentId;
            _large.Add(next);
            _heldBySender[sender] = held;
            return;
        }
    }

    /// <summary>
    /// A regular configuration dropped every partial message. A large message of mine that had some
    /// but not all of its fragments on the old ring is sent again, whole, under a new id, still ahead
    /// of its sender's later messages (they were held behind it); its stray old fragments are dropped
    /// everywhere because no partial message matches them.
    /// </summary>
    private void RestartInterrupted()
    {
        // Messages whose last fragment left on the old ring were delivered there (self-delivery of a
        // survivor's messages); anything left over here was not, and is restarted too.
        var restart = new List<Outgoing>(_inFlight);
        _inFlight.Clear();
        foreach (Outgoing outgoing in _large)
        {
            if (outgoing.Next > 0)
            {
                restart.Add(outgoing);
            }
        }

        foreach (Outgoing outgoing in restart)
        {
            _large.Remove(outgoing);
            outgoing.FragmentId = ++_nextFragmentId;
            outgoing.Next = 0;
            RestartedMessages++;
        }

        _large.InsertRange(0, restart);
    }

    private static Outgoing? Find(List<Outgoing> list, uint id)
    {
        foreach (Outgoing outgoing in list)
        {
            if (outgoing.FragmentId == id)
            {
                return outgoing;
            }
        }

        return null;
    }

    private sealed class Outgoing(string sender, byte[] encoded, RingService service, int count, bool isState)
    {
        public string Sender { get; } = sender;
        public bool IsState { get; } = isState;
        public byte[] Encoded { get; } = encoded;
        public RingService Service { get; } = service;
        public int Count { get; } = count;
        public uint FragmentId { get; set; }
        public int Next { get; set; }
    }
}
