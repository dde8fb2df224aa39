namespace Conclave.Client;

/// <summary>What changed a group's regular membership.</summary>
public enum MembershipCause
{
    /// <summary>A member joined (CAUSED_BY_JOIN).</summary>
    Join = 1,
    /// <summary>A member left (CAUSED_BY_LEAVE).</summary>
    Leave,
    /// <summary>A member disconnected (CAUSED_BY_DISCONNECT).</summary>
    Disconnect,
    /// <summary>The daemons' membership changed: a partition, merge or crash (CAUSED_BY_NETWORK).</summary>
    Network,
}
