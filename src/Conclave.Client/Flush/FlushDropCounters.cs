namespace Conclave.Client.Flush;

/// <summary>
/// Messages the Flush layer received but did not deliver, by reason. Under view synchrony each is legitimate
/// (a sender outside the installed view, a message held for a view that will not be installed): the counters make
/// every such drop visible, so a message missing at the application can be told from a lost one.
/// </summary>
/// <remarks>Updated by the receiving flow, read from any thread.</remarks>
public sealed class FlushDropCounters
{
    private long _senderOutsideView;
    private long _heldForAbandonedView;
    private long _unknownGroup;
    private string? _lastSenderOutsideView;

    /// <summary>Gets the number of data messages from a sender that is not (or no longer) in the installed view of its group.</summary>
    public long SenderOutsideView => Interlocked.Read(ref _senderOutsideView);

    /// <summary>Gets the number of data messages sent in a view this member had not installed yet, and dropped because that view will not be installed here or the sender left it.</summary>
    public long HeldForAbandonedView => Interlocked.Read(ref _heldForAbandonedView);

    /// <summary>Gets the number of data messages for a group this session is not in (or no longer).</summary>
    public long UnknownGroup => Interlocked.Read(ref _unknownGroup);

    /// <summary>Gets the last message counted in <see cref="SenderOutsideView"/>: group, sender and the view it was not in (diagnostics).</summary>
    public string? LastSenderOutsideView => Volatile.Read(ref _lastSenderOutsideView);

    /// <summary>Gets the sum of all counters.</summary>
    public long Total => SenderOutsideView + HeldForAbandonedView + UnknownGroup;

    /// <inheritdoc/>
    public override string ToString() =>
        $"sender outside view {SenderOutsideView}, held for an abandoned view {HeldForAbandonedView}, unknown group {UnknownGroup}" +
        (LastSenderOutsideView is string last ? $" (last outside view: {last})" : "");

    internal void CountSenderOutsideView(string detail)
    {
        Interlocked.Increment(ref _senderOutsideView);
        Volatile.Write(ref _lastSenderOutsideView, detail);
    }

    internal void CountHeldForAbandonedView(int count) => Interlocked.Add(ref _heldForAbandonedView, count);

    internal void CountUnknownGroup() => Interlocked.Increment(ref _unknownGroup);
}
