namespace Conclave.Client.Flush;

/// <summary>
/// The current view is losing members: messages delivered from here until the next <see cref="FlushView"/>
/// may not have reached the members that are leaving, but every member that installs the same next view
/// delivers the same messages in this view.
/// </summary>
public sealed class FlushTransitionalSignal : FlushEvent
{
    internal FlushTransitionalSignal(string group)
        : base(group)
    {
    }
}
