namespace Conclave.Client.Flush;

/// <summary>
/// One event of a <see cref="FlushConnection"/>'s single ordered stream: a <see cref="FlushDataMessage"/>,
/// a <see cref="FlushRequest"/>, a <see cref="FlushTransitionalSignal"/>, a <see cref="FlushView"/> or a
/// <see cref="FlushSelfLeave"/>.
/// </summary>
public abstract class FlushEvent
{
    private protected FlushEvent(string group) => Group = group;

    /// <summary>Gets the group the event belongs to (for a message to this session's private group, that private group).</summary>
    public string Group { get; }
}
