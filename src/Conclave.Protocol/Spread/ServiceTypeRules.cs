using System.Numerics;

namespace Conclave.Protocol.Spread;

/// <summary>Which type words are legal, and what they mean (spread-client-protocol.md §3.3–§3.4).</summary>
public static class ServiceTypeRules
{
    /// <summary>The bits of which a client request must set exactly one.</summary>
    public const ServiceType RequestKindMask =
        ServiceType.RegularMask | ServiceType.JoinRequest | ServiceType.LeaveRequest | ServiceType.KillRequest;

    /// <summary>True when exactly one data service or request bit is set (Spread's count_bits_set rule).</summary>
    public static bool HasExactlyOneRequestKind(ServiceType type) =>
        BitOperations.PopCount((uint)(type & RequestKindMask)) == 1;

    /// <summary>True when the type is one of the six data services.</summary>
    public static bool IsData(ServiceType type) => (type & ServiceType.RegularMask) != 0;

    /// <summary>True for a membership message (any of the membership bits).</summary>
    public static bool IsMembership(ServiceType type) => (type & ServiceType.MembershipMask) != 0;

    /// <summary>True for a regular membership message.</summary>
    public static bool IsRegularMembership(ServiceType type) => (type & ServiceType.RegularMembership) != 0;

    /// <summary>True for the bare self-leave notice.</summary>
    public static bool IsSelfLeave(ServiceType type) =>
        (type & ServiceType.MembershipMask) == ServiceType.CausedByLeave;

    /// <summary>The single data service of a type word (SELF_DISCARD and other bits removed).</summary>
    public static ServiceType DataService(ServiceType type) => type & ServiceType.RegularMask;
}
