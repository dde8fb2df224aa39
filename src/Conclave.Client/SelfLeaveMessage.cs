using Conclave.Protocol.Spread;

namespace Conclave.Client;

/// <summary>The notice that this session's own leave took effect (a bare CAUSED_BY_LEAVE).</summary>
public sealed class SelfLeaveMessage : SpreadMessage
{
    internal SelfLeaveMessage(ServiceType serviceType, string group)
        : base(serviceType) => Group = group;

    /// <summary>Gets the group the session left.</summary>
    public string Group { get; }
}
