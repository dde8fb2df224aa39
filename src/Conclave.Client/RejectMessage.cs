using Conclave.Protocol.Spread;

namespace Conclave.Client;

/// <summary>
/// The daemon refused one of this session's requests (REJECT_MESS) and sent it back: the original type
/// word, destination list, message type and body.
/// </summary>
/// <remarks>
/// <see cref="SpreadMessage.ServiceType"/> is libspread's value: the original type word with
/// <see cref="ServiceType.Reject"/> added. For a refused join or leave the daemon reports the original
/// request as CAUSED_BY_JOIN or CAUSED_BY_LEAVE.
/// </remarks>
public sealed class RejectMessage : SpreadMessage
{
    internal RejectMessage(ServiceType serviceType, ServiceType rejectedType, string sender, IReadOnlyList<string> groups, short messageType, byte[] body)
        : base(serviceType)
    {
        RejectedType = rejectedType;
        Sender = sender;
        Groups = groups;
        MessageType = messageType;
        Body = body;
    }

    /// <summary>Gets the type word of the refused request, without the endian marker.</summary>
    public ServiceType RejectedType { get; }

    /// <summary>Gets the header's sender field as delivered.</summary>
    public string Sender { get; }

    /// <summary>Gets the refused request's destination groups.</summary>
    public IReadOnlyList<string> Groups { get; }

    /// <summary>Gets the refused request's message type.</summary>
    public short MessageType { get; }

    /// <summary>Gets the refused request's body.</summary>
    public ReadOnlyMemory<byte> Body { get; }
}
