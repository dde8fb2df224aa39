namespace Conclave.Client.Flush;

/// <summary>This session's leave took effect: nothing more is delivered for the group.</summary>
public sealed class FlushSelfLeave : FlushEvent
{
    internal FlushSelfLeave(string group)
        : base(group)
    {
    }
}
