namespace Conclave.Client.Secure.Internal;

/// <summary>
/// This member's sealed messages, kept from sealing until the daemon delivers them back: an echo that matches, byte for
/// byte, what was sealed is delivered with the kept plaintext instead of being opened again. A sender thus opens one
/// AEAD message less per message it sends (its echo is opened on the same receiving path as everyone else's).
/// Anything that does not match exactly is opened and checked like any other member's message.
/// </summary>
internal sealed class OwnEchoes
{
    /// <summary>At most this many are kept; a sender whose own receiving lags further has its later echoes opened as before.</summary>
    public const int MaxKept = 256;

    private readonly Queue<(long Sequence, byte[] Sealed, byte[] Plaintext)> _kept = new();

    /// <summary>Gets how many sealed messages are kept (tests).</summary>
    public int Count => _kept.Count;

    /// <summary>Keeps a copy of a message just sealed with <paramref name="sequence"/> (sequences rise within a view).</summary>
    public void Add(long sequence, ReadOnlySpan<byte> sealedMessage, ReadOnlySpan<byte> plaintext)
    {
        if (_kept.Count < MaxKept)
        {
            _kept.Enqueue((sequence, sealedMessage.ToArray(), plaintext.ToArray()));
        }
    }

    /// <summary>The plaintext of the kept message with <paramref name="sequence"/> if <paramref name="wire"/> is exactly its sealed bytes, else null.</summary>
    public byte[]? TryTake(long sequence, ReadOnlySpan<byte> wire)
    {
        // Echoes come back in sending order: older ones not matched by now never will be.
        while (_kept.TryPeek(out (long Sequence, byte[] Sealed, byte[] Plaintext) head) && head.Sequence < sequence)
        {
            _kept.Dequeue();
        }

        if (!_kept.TryPeek(out (long Sequence, byte[] Sealed, byte[] Plaintext) next) || next.Sequence != sequence || !wire.SequenceEqual(next.Sealed))
        {
            return null;
        }

        _kept.Dequeue();
        return next.Plaintext;
    }

    public void Clear() => _kept.Clear();
}
