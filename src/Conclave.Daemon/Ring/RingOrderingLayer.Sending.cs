using Conclave.Protocol.Groups;
using Conclave.Protocol.Ring;

namespace Conclave.Daemon.Ring;

/// <summary>The sending side: queues, fragmentation, pacing and restarts at configuration changes.</summary>
internal sealed partial class RingOrderingLayer
{
    private readonly Queue<Outgoing> _small = new();
    private readonly List<Outgoing> _large = [];
    private readonly List<Outgoing> _inFlight = [];
    private readonly Dictionary<string, Queue<Outgoing>> _heldBySender = new(StringComparer.Ordinal);
    private readonly List<byte[]> _bundle = [];
    private uint _nextFragmentId;

    /// <summary>Messages and fragments waiting above the ring.</summary>
    public int Backlog => _small.Count + _large.Count + _heldBySender.Values.Sum(q => q.Count);

    /// <inheritdoc />
    public void Submit(GroupMessage message)
    {
        byte[] encoded = GroupMessageCodec.Encode(message);
        int count = encoded.Length <= _settings.FragmentSize ? 1 : (encoded.Length + _settings.FragmentSize - 1) / _settings.FragmentSize;
        var outgoing = new Outgoing(message.Sender, encoded, ServiceOf(message), count);
        if (_heldBySender.TryGetValue(message.Sender, out Queue<Outgoing>? held))
        {
            held.Enqueue(outgoing);
        }
        else
        {
            Schedule(outgoing);
        }

        Pump();
    }

    private void Schedule(Outgoing outgoing)
    {
        if (outgoing.Count == 1)
        {
            _small.Enqueue(outgoing);
            return;
        }

        outgoing.FragmentId = ++_nextFragmentId;
        _large.Add(outgoing);
        _heldBySender[outgoing.Sender] = new Queue<Outgoing>();
    }

    /// <summary>Tops the ring's queue up: small messages first (packed), then fragments of the oldest large message.</summary>
    private void Feed()
    {
        while (_ring.PendingSends < _settings.MaxRingQueue)
        {
            if (_small.TryDequeue(out Outgoing? small))
            {
                SubmitSmall(small);
                continue;
            }

            if (_large.Count == 0)
            {
                return;
            }

            Outgoing large = _large[0];
            int size = _settings.FragmentSize;
            int from = large.Next * size;
            ReadOnlySpan<byte> chunk = large.Encoded.AsSpan(from, Math.Min(size, large.Encoded.Length - from));
            // Only the last fragment needs the message's service: the message is delivered at its position.
            RingService service = large.Next == large.Count - 1 ? large.Service : RingService.Agreed;
            Submit(Fragment.Piece(large.FragmentId, large.Next, large.Count, chunk), service);
            if (++large.Next == large.Count)
            {
                _large.RemoveAt(0);
                _inFlight.Add(large);
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="first"/> alone, or packed with the small messages queued behind it that
    /// share its service, up to one fragment's size: a backlog leaves in a few full payloads.
    /// </summary>
    private void SubmitSmall(Outgoing first)
    {
        int size = 1 + Bundle.EntrySize(first.Encoded);
        _bundle.Clear();
        _bundle.Add(first.Encoded);
        while (_small.TryPeek(out Outgoing? next) && next.Service == first.Service
               && size + Bundle.EntrySize(next.Encoded) <= _settings.FragmentSize)
        {
            _small.Dequeue();
            _bundle.Add(next.Encoded);
            size += Bundle.EntrySize(next.Encoded);
        }

        Submit(_bundle.Count == 1 ? Fragment.Whole(first.Encoded) : Bundle.Pack(_bundle, size), first.Service);
        BundledMessages += _bundle.Count > 1 ? _bundle.Count : 0;
        _bundle.Clear();
    }

    /// <summary>Messages that left packed with others in one ring payload.</summary>
    public long BundledMessages { get; private set; }

    private void Submit(byte[] payload, RingService service)
    {
        if (!_ring.Submit(payload, service, _clock(), out _))
        {
            throw new InvalidOperationException($"The ring refused a {payload.Length}-byte payload; the fragment size is too large for it.");
        }
    }

    /// <summary>One of this daemon's fragments came back in the total order.</summary>
    private void OwnFragmentDelivered(byte[] payload)
    {
        if (!Fragment.TryReadPiece(payload, out uint id, out int index, out int count))
        {
            return;
        }

        Outgoing? mine = Find(_inFlight, id) ?? Find(_large, id);
        if (mine is null)
        {
            return; // A stray fragment of a message restarted under a new id.
        }

        if (index == 0)
        {
            mine.FirstDelivered = true;
        }

        if (index == count - 1)
        {
            _inFlight.Remove(mine);
            Release(mine.Sender);
        }
    }

    /// <summary>The large message of <paramref name="sender"/> is done: its held messages go on.</summary>
    private void Release(string sender)
    {
        if (!_heldBySender.Remove(sender, out Queue<Outgoing>? held))
        {
            return;
        }

        while (held.TryDequeue(out Outgoing? next))
        {
            Schedule(next);
            if (next.Count > 1)
            {
                foreach (Outgoing rest in held)
                {
                    _heldBySender[sender].Enqueue(rest);
                }

                return;
            }
        }
    }

    /// <summary>
    /// A regular configuration dropped every partial message. My large messages whose first fragment
    /// was delivered but whose last was not are sent again, whole, under a new id; their stray old
    /// fragments are dropped everywhere because no partial message matches them.
    /// </summary>
    private void RestartInterrupted()
    {
        var restart = new List<Outgoing>();
        foreach (Outgoing outgoing in _inFlight.Concat(_large))
        {
            if (outgoing.FirstDelivered)
            {
                restart.Add(outgoing);
            }
        }

        foreach (Outgoing outgoing in restart)
        {
            _inFlight.Remove(outgoing);
            _large.Remove(outgoing);
            outgoing.FragmentId = ++_nextFragmentId;
            outgoing.Next = 0;
            outgoing.FirstDelivered = false;
            RestartedMessages++;
        }

        _large.InsertRange(0, restart);
    }

    /// <summary>Large messages sent again after a configuration change interrupted them.</summary>
    public long RestartedMessages { get; private set; }

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

    private sealed class Outgoing(string sender, byte[] encoded, RingService service, int count)
    {
        public string Sender { get; } = sender;
        public byte[] Encoded { get; } = encoded;
        public RingService Service { get; } = service;
        public int Count { get; } = count;
        public uint FragmentId { get; set; }
        public int Next { get; set; }
        public bool FirstDelivered { get; set; }
    }
}
