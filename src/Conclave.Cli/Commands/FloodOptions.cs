using Conclave.Protocol.Spread;

namespace Conclave.Cli.Commands;

/// <summary>What `conclave flood` runs.</summary>
internal sealed record FloodOptions(string? Spread, string Group, int Count, int Size, ServiceType Service, int Senders, int Receivers, int Window)
{
    /// <summary>Bytes of the body that carry the sender index, the sequence number and the send time.</summary>
    public const int StampSize = 16;

    /// <summary>The message type flood messages carry, so other traffic in the group is ignored.</summary>
    public const short MessageType = 0x0F1D;

    /// <summary>Why the options cannot run, or null.</summary>
    public string? Problem() =>
        Service == ServiceType.None ? "the service must be one of unreliable, reliable, fifo, causal, agreed, safe"
        : (Service & ServiceType.SelfDiscard) != 0 ? "SELF_DISCARD would hide the senders' own copies, which time the round trip"
        : Count < 1 ? "--count must be at least 1"
        : Size is < StampSize or > SpreadLimits.MaxMessageBodyLength - SpreadLimits.HeaderSize - SpreadLimits.GroupNameSize ? $"--size must be {StampSize}..{SpreadLimits.MaxMessageBodyLength - SpreadLimits.HeaderSize - SpreadLimits.GroupNameSize}"
        : Senders < 1 ? "--senders must be at least 1"
        : Receivers < 0 ? "--receivers cannot be negative"
        : Window is < 1 or > 900 ? "--window must be 1..900 (a Spread daemon kills a session that leaves 1,000 messages unread)"
        : !NameField.IsLegalGroupName(Group) ? $"'{Group}' is not a legal group name"
        : null;
}
