using Conclave.Client.Internal;
using Conclave.Protocol.Spread;

namespace Conclave.Client;

/// <summary>
/// One message from the session's single ordered stream: a <see cref="DataMessage"/>, a
/// <see cref="MembershipMessage"/> (a regular view), a <see cref="TransitionalMembershipMessage"/>,
/// a <see cref="SelfLeaveMessage"/> or a <see cref="RejectMessage"/>.
/// </summary>
public abstract class SpreadMessage
{
    private protected SpreadMessage(ServiceType serviceType) => ServiceType = serviceType;

    /// <summary>Gets the type word as delivered, without the endian marker (libspread's <c>service_type</c>).</summary>
    public ServiceType ServiceType { get; }

    /// <summary>Decodes a pooled frame into a self-owned message; the frame stays owned by the caller.</summary>
    /// <param name="frame">The frame to decode.</param>
    /// <param name="ownPrivateGroup">The receiving session's private group, used to find its place in a view.</param>
    /// <returns>The decoded message.</returns>
    /// <exception cref="SpreadException">The frame is malformed (<see cref="SpreadError.IllegalMessage"/>).</exception>
    public static SpreadMessage FromFrame(in SpreadFrame frame, string ownPrivateGroup) => MessageDecoder.Decode(frame, ownPrivateGroup);
}
