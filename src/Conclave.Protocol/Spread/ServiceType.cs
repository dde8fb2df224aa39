namespace Conclave.Protocol.Spread;

/// <summary>
/// The service and control bits of the Spread 4 header's <c>type</c> word
/// (spread-client-protocol.md §3.3).
/// </summary>
[Flags]
public enum ServiceType : uint
{
    /// <summary>No bit set.</summary>
    None = 0,
    /// <summary>Best-effort delivery.</summary>
    Unreliable = 0x0000_0001,
    /// <summary>Reliable, unordered delivery.</summary>
    Reliable = 0x0000_0002,
    /// <summary>Reliable, per-sender FIFO delivery.</summary>
    Fifo = 0x0000_0004,
    /// <summary>Reliable, causally ordered delivery.</summary>
    Causal = 0x0000_0008,
    /// <summary>Reliable, totally ordered delivery.</summary>
    Agreed = 0x0000_0010,
    /// <summary>Totally ordered delivery once every daemon holds the message.</summary>
    Safe = 0x0000_0020,
    /// <summary>Mask of the six data services.</summary>
    RegularMask = 0x0000_003F,
    /// <summary>The sender does not receive its own copy.</summary>
    SelfDiscard = 0x0000_0040,

    /// <summary>Membership caused by a join.</summary>
    CausedByJoin = 0x0000_0100,
    /// <summary>Membership caused by a leave; alone, the self-leave notice.</summary>
    CausedByLeave = 0x0000_0200,
    /// <summary>Membership caused by a disconnect.</summary>
    CausedByDisconnect = 0x0000_0400,
    /// <summary>Membership caused by a daemon configuration change.</summary>
    CausedByNetwork = 0x0000_0800,
    /// <summary>A regular membership (a view).</summary>
    RegularMembership = 0x0000_1000,
    /// <summary>A transitional membership signal.</summary>
    TransitionMembership = 0x0000_2000,
    /// <summary>Mask of the membership bits.</summary>
    MembershipMask = 0x0000_3F00,

    /// <summary>Client request: join the group.</summary>
    JoinRequest = 0x0001_0000,
    /// <summary>Client request: leave the group.</summary>
    LeaveRequest = 0x0002_0000,
    /// <summary>Client request: disconnect.</summary>
    KillRequest = 0x0004_0000,
    /// <summary>Daemon-internal group-state exchange; refused from clients.</summary>
    GroupsMessage = 0x0008_0000,
    /// <summary>Daemon to client: the request was refused.</summary>
    Reject = 0x0040_0000,

    /// <summary>The endian marker bits (set by little-endian writers).</summary>
    EndianMarker = 0x8000_0080,
}
