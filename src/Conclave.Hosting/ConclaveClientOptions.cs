namespace Conclave.Hosting;

/// <summary>
/// How a hosted <see cref="ConclaveClient"/> connects, bound from configuration (by default the
/// <c>Conclave:Client</c> section).
/// </summary>
/// <remarks>The options are checked when the host starts; a bad value stops the host with an error that names it.</remarks>
public sealed class ConclaveClientOptions
{
    /// <summary>The configuration section the options are bound from by default.</summary>
    public const string SectionName = "Conclave:Client";

    /// <summary>Gets or sets the daemon: <c>PORT@HOST</c> for TCP, <c>PORT</c> for the Unix socket <c>/tmp/PORT</c>, empty for <c>4803</c>.</summary>
    public string Daemon { get; set; } = string.Empty;

    /// <summary>Gets or sets the session's name, at most 10 characters; empty lets the daemon choose one on every connection.</summary>
    public string PrivateName { get; set; } = string.Empty;

    /// <summary>Gets or sets the groups joined on every connection, besides those joined later with <see cref="ConclaveClient.JoinAsync"/>.</summary>
    public IList<string> Groups { get; set; } = [];

    /// <summary>Gets or sets a value indicating whether the session receives membership messages.</summary>
    public bool ReceiveMemberships { get; set; } = true;

    /// <summary>Gets or sets the wait before the first reconnection attempt; it doubles after each failure up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Gets or sets the longest wait between reconnection attempts.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how many received messages wait for the application before the client stops reading from the daemon.</summary>
    /// <remarks>A daemon disconnects a session that leaves about 1,000 messages unread; the client then reconnects.</remarks>
    public int ReceiveBuffer { get; set; } = 4_096;
}
