using Conclave.Protocol.Groups;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Internal;

/// <summary>Work for the daemon's single event loop, posted by session readers.</summary>
internal sealed record LoopItem(ClientSession Session, GroupMessage? Message, ServiceType RequestType, byte[]? Frame)
{
    /// <summary>The session's reader ended: the session is gone.</summary>
    public bool IsSessionEnd => Message is null;
}
