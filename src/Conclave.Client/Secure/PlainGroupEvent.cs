using Conclave.Client.Flush;

namespace Conclave.Client.Secure;

/// <summary>An event of a plain (unencrypted Flush) group joined on a <see cref="SecureConnection"/>, passed through unchanged.</summary>
public sealed class PlainGroupEvent : SecureEvent
{
    internal PlainGroupEvent(FlushEvent e)
        : base(e.Group) => Event = e;

    /// <summary>Gets the Flush layer's event: a view, a data message, a flush request, a transitional signal or a self-leave.</summary>
    public FlushEvent Event { get; }
}
