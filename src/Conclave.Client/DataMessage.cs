using Conclave.Protocol.Spread;

namespace Conclave.Client;

/// <summary>An application message multicast (or unicast) by a session.</summary>
public sealed class DataMessage : SpreadMessage
{
    internal DataMessage(ServiceType serviceType, string sender, IReadOnlyList<string> groups, short messageType, bool endianMismatch, byte[] body)
        : base(serviceType)
    {
        Sender = sender;
        Groups = groups;
        MessageType = messageType;
        EndianMismatch = endianMismatch;
        Body = body;
    }

    /// <summary>Gets the sender's private group, e.g. <c>#alice#localhost</c>.</summary>
    public string Sender { get; }

    /// <summary>Gets the sender's full destination list (every group and private group it named).</summary>
    public IReadOnlyList<string> Groups { get; }

    /// <summary>Gets the single data service the message was sent with (SELF_DISCARD and other bits removed).</summary>
    public ServiceType Service => ServiceType & ServiceType.RegularMask;

    /// <summary>Gets a value indicating whether the sender asked not to receive its own copy (the SELF_DISCARD bit, kept in the delivered type word).</summary>
    public bool SelfDiscard => (ServiceType & ServiceType.SelfDiscard) != 0;

    /// <summary>Gets the 16-bit application message type.</summary>
    public short MessageType { get; }

    /// <summary>Gets a value indicating whether the sender's byte order differs from this host's.</summary>
    /// <remarks>The daemon never touches the body, so interpreting a multi-byte body is the application's business.</remarks>
    public bool EndianMismatch { get; }

    /// <summary>Gets the body.</summary>
    public ReadOnlyMemory<byte> Body { get; }
}
