using Conclave.Protocol.Spread;

namespace Conclave.Client;

public sealed partial class GroupConnection
{
    /// <summary>Sends a Flush-layer frame: its type may carry FL's SUBGROUP_CAST bit, which the public sends refuse.</summary>
    internal ValueTask SendFlushFrameAsync(ServiceType service, IReadOnlyList<string> groups, short messageType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        SendFrameAsync(service, null, groups, messageType, body, cancellationToken);

    /// <summary>Gets a value indicating whether this session closed itself (a later end of stream is not a loss).</summary>
    internal bool WasClosedLocally => IsClosedLocally;
}
