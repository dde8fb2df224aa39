using Conclave.Protocol.Ring;

namespace Conclave.Daemon.Ring;

/// <summary>
/// Puts fragmented messages back together, one in progress per sender incarnation. A message is
/// complete at the position of its last fragment; anything out of sequence, and every partial message
/// at a regular configuration, is dropped — at the same point of the total order everywhere.
/// </summary>
internal sealed class Reassembler(int maxMessageBytes)
{
    private readonly Dictionary<(uint Node, ulong Incarnation), Partial> _partials = [];

    /// <summary>Fragments dropped (out of sequence, or of a message abandoned at a configuration change).</summary>
    public long Dropped { get; private set; }

    /// <summary>Partial messages in progress.</summary>
    public int InProgress => _partials.Count;

    /// <summary>Adds a fragment; returns the whole encoded message when this was its last fragment.</summary>
    public ReadOnlyMemory<byte>? Add(MessageId sender, byte[] payload)
    {
        if (!Fragment.TryReadPiece(payload, out uint id, out int index, out int count))
        {
            Dropped++;
            return null;
        }

        var key = (sender.Node, sender.Incarnation);
        int chunk = payload.Length - Fragment.FragmentHeaderSize;
        if (index == 0)
        {
            if (_partials.Remove(key))
            {
                Dropped++;
            }

            if ((long)chunk * count > maxMessageBytes + (long)chunk)
            {
                Dropped++;
                return null;
            }

            // Every fragment but the last is as long as the first, so this holds the whole message.
            var started = new Partial(id, count, GC.AllocateUninitializedArray<byte>(chunk * count));
            payload.AsSpan(Fragment.FragmentHeaderSize, chunk).CopyTo(started.Buffer);
            started.Length = chunk;
            started.Next = 1;
            _partials[key] = started;
            return null;
        }

        if (!_partials.TryGetValue(key, out Partial? partial) || partial.Id != id || partial.Next != index || partial.Count != count
            || chunk > partial.Buffer.Length - partial.Length || (index < count - 1 && chunk != partial.Length / index))
        {
            Dropped++;
            return null;
        }

        payload.AsSpan(Fragment.FragmentHeaderSize, chunk).CopyTo(partial.Buffer.AsSpan(partial.Length));
        partial.Length += chunk;
        partial.Next++;
        if (partial.Next < count)
        {
            return null;
        }

        _partials.Remove(key);
        return partial.Buffer.AsMemory(0, partial.Length);
    }

    /// <summary>A regular configuration: messages not finished by now are abandoned everywhere.</summary>
    public void DropPartials()
    {
        Dropped += _partials.Count;
        _partials.Clear();
    }

    private sealed class Partial(uint id, int count, byte[] buffer)
    {
        public uint Id { get; } = id;
        public int Count { get; } = count;
        public byte[] Buffer { get; } = buffer;
        public int Length { get; set; }
        public int Next { get; set; }
    }
}
