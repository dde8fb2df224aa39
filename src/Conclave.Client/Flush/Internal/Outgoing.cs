using Conclave.Protocol.Spread;

namespace Conclave.Client.Flush.Internal;

/// <summary>A Spread message the flush core asks its driver to send, in order.</summary>
internal sealed record Outgoing(ServiceType Service, IReadOnlyList<string> Groups, short MessageType, byte[] Body);
