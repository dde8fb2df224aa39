using Conclave.Protocol.Groups;

namespace Conclave.Protocol.Ordering;

/// <summary>
/// The total-order service the group layer runs on: messages submitted here come back, in one order
/// common to every daemon of a configuration, through an <see cref="IOrderingListener"/>, together
/// with daemon configuration changes. On one host a <see cref="LocalSequencer"/> implements it; across
/// daemons, the token ring does.
/// </summary>
public interface IOrderingLayer
{
    /// <summary>Queues a message for ordered delivery to every daemon (this one included).</summary>
    void Submit(GroupMessage message);
}

/// <summary>Receives the ordered stream: messages and configuration changes (ring-protocol.md §5.4 RC8).</summary>
public interface IOrderingListener
{
    /// <summary>The next message in the total order.</summary>
    void OnDeliver(GroupMessage message);

    /// <summary>A transitional configuration: these daemons continue together.</summary>
    void OnTransitional(IReadOnlyList<string> daemons, MembershipId id);

    /// <summary>A new regular configuration.</summary>
    void OnRegular(IReadOnlyList<string> daemons, MembershipId id);

    /// <summary>
    /// True while the group layer runs a state exchange: the ordering layer then sends only
    /// group-state messages and holds client requests until it ends (ring-protocol.md §5.3 J6).
    /// </summary>
    bool HoldsClientRequests => false;

    /// <summary>
    /// The deliveries made so far may reach their clients now: the ordering layer is about to spend time
    /// on network sends that the clients need not wait for (their messages are already ordered).
    /// </summary>
    void WriteDeliveries()
    {
    }
}
