namespace Conclave.Client.Flush;

/// <summary>
/// The group's membership is about to change: answer with <see cref="FlushConnection.FlushOkAsync"/>
/// once the application has sent what it wants delivered in the current view.
/// </summary>
/// <remarks>
/// Sends stay allowed until the answer; after it, sends to the group wait for the next <see cref="FlushView"/>.
/// Answer each request exactly once. With <see cref="FlushOptions.AutoFlushOk"/> the layer has already answered.
/// </remarks>
public sealed class FlushRequest : FlushEvent
{
    internal FlushRequest(string group)
        : base(group)
    {
    }
}
