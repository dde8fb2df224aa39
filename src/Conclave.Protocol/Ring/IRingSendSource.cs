namespace Conclave.Protocol.Ring;

/// <summary>
/// Messages the layer above hands the ring at the moment it can send them: while holding the token,
/// after the ring's own queue (<see cref="RingMachine.Submit"/>) is empty. Nothing waits inside the
/// ring between token visits, so at a configuration change every unsent message is still the layer's
/// to reorder (e.g. to restart an interrupted fragmented message ahead of its sender's later ones).
/// </summary>
public interface IRingSendSource
{
    /// <summary>Messages waiting (reported on the token as this processor's backlog).</summary>
    int Backlog { get; }

    /// <summary>The next message to send, or false when none is waiting.</summary>
    bool TryTake(out byte[] payload, out RingService service);
}
