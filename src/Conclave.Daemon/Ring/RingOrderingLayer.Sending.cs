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
    private readonly List<Outgoing> _large = [];
    private readonly List<Outgoing> _inFlight = [];
    private readonly Dictionary<string, Queue<Outgoing>> _heldBySender = new(StringComparer.Ordinal);
    private readonly List<byte[]> _bundle = [];
    private uint _nextFragmentId;
    private int _held;

    /// <summary>Messages and fragmented messages waiting above the ring.</summary>
    public int Backlog => _small.Count + _large.Count + _held;

    /// <summary>Messages that left packed with others in one ring payload.</summary>
    public long BundledMessages { get; private set; }

    /// <summary>Large messages sent again after a configuration change interrupted them.</summary>
    public long RestartedMessages { get; private set; }

    /// <inheritdoc />
    public void Submit(GroupMessage message)
    {
        byte[] encoded = GroupMessageCodec.Encode(message);
        int count = encoded.Length <= _settings.FragmentSize ? 1 : (encoded.Length + _settings.FragmentSize - 1) / _settings.FragmentSize;
        var outgoing = new Outgoing(message.Sender, encoded, ServiceOf(message), count);
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
            _small.Enqueue(outgoing);
            return;
        }

        outgoing.FragmentId = ++_nextFragmentId;
        _large.Add(outgoing);
        _heldBySender[outgoing.Sender] = new Queue<Outgoing>();
    }

    /// <summary>The ring holds the token: small messages first (packed), then the oldest large message's next fragment.</summary>
    bool IRingSendSource.TryTake(out byte[] payload, out RingService service)
    {
        if (_small.TryDequeue(out Outgoing? small))
        {
            payload = PackSmall(small);
            service = small.Service;
            return true;
        }

        if (_large.Count == 0)
        {
            payload = [];
            service = default;
            return false;
        }

        Outgoing large = _large[0];
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
            _large.RemoveAt(0);
            _inFlight.Add(large);
            Release(large.Sender);
        }

        return true;
    }

    /// <summary>
    /// <paramref name="first"/> alone, or packed with the small messages queued behind it that share
    /// its service, up to one fragment's size: a backlog leaves in a few full payloads.
    /// </summary>
    private byte[] PackSmall(Outgoing first)
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
                _small.Enqueue(next);
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

    private sealed class Outgoing(string sender, byte[] encoded, RingService service, int count)
    {
        public string Sender { get; } = sender;
        public byte[] Encoded { get; } = encoded;
        public RingService Service { get; } = service;
        public int Count { get; } = count;
        public uint FragmentId { get; set; }
        public int Next { get; set; }
    }
}
