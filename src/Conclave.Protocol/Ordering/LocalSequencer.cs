using Conclave.Protocol.Groups;

namespace Conclave.Protocol.Ordering;

/// <summary>
/// The ordering layer of a daemon alone: submission order is the total order, and every service
/// (Agreed and Safe included) is satisfied at once because this daemon is the whole configuration.
/// Not thread-safe: call it from the daemon's single event loop.
/// </summary>
public sealed class LocalSequencer(IOrderingListener listener) : IOrderingLayer
{
    /// <summary>Messages ordered so far.</summary>
    public long Sequence { get; private set; }

    /// <inheritdoc />
    public void Submit(GroupMessage message)
    {
        Sequence++;
        listener.OnDeliver(message);
    }
}
