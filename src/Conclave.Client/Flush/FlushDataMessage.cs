using Conclave.Protocol.Spread;

namespace Conclave.Client.Flush;

/// <summary>An application message, delivered in the view in which it was sent.</summary>
public sealed class FlushDataMessage : FlushEvent
{
    internal FlushDataMessage(string group, string sender, ServiceType service, short messageType, IReadOnlyList<string>? receivers, bool endianMismatch, ReadOnlyMemory<byte> body)
        : base(group)
    {
        Sender = sender;
        Service = service;
        MessageType = messageType;
        Receivers = receivers;
        EndianMismatch = endianMismatch;
        Body = body;
    }

    /// <summary>Gets the sender's private group.</summary>
    public string Sender { get; }

    /// <summary>Gets the data service the message was sent with.</summary>
    public ServiceType Service { get; }

    /// <summary>Gets the application's message type.</summary>
    public short MessageType { get; }

    /// <summary>Gets the receivers a unicast or subgroupcast named, or null for a multicast to the whole view.</summary>
    public IReadOnlyList<string>? Receivers { get; }

    /// <summary>Gets a value indicating whether the sender's byte order differs from this host's.</summary>
    public bool EndianMismatch { get; }

    /// <summary>Gets the body, without the Flush layer's tails.</summary>
    public ReadOnlyMemory<byte> Body { get; }
}
