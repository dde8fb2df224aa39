using Conclave.Protocol.Spread;

namespace Conclave.Client.Secure;

/// <summary>
/// A secure group (Secure Spread) on the Flush layer: every view gets a fresh group key by contributory key
/// agreement among exactly its (trusted) members, and every message is sealed under that key.
/// </summary>
/// <remarks>
/// <para>
/// A <see cref="SecureView"/> is delivered only once its key is established; sends wait until then and never
/// use a key of an earlier view. Data goes out AGREED so that it follows, at every member, the key agreement
/// messages that produced its key. Replays, forgeries and messages of other epochs are refused and counted in
/// <see cref="Counters"/>. Flush requests are answered automatically.
/// </para>
/// <para>Keep receiving: key agreement, like the Flush protocol under it, advances only as events are received.</para>
/// <para>One group on its own session; <see cref="SecureConnection"/> carries several groups on one session.</para>
/// </remarks>
public sealed class SecureGroup : IAsyncDisposable
{
    private readonly SecureConnection _connection;

    private SecureGroup(SecureConnection connection, string group)
    {
        _connection = connection;
        Group = group;
        Counters = connection.Counters(group);
    }

    /// <summary>Gets the group's name.</summary>
    public string Group { get; }

    /// <summary>Gets this member's private group (its name in views and in the trust directory).</summary>
    public string PrivateGroup => _connection.PrivateGroup;

    /// <summary>Gets what the group refused so far.</summary>
    public SecureGroupCounters Counters { get; }

    /// <summary>Gets the messages the Flush layer under this session received but did not deliver, by reason (live counters).</summary>
    public Flush.FlushDropCounters FlushDrops => _connection.FlushDrops;

    /// <summary>Connects to a daemon and joins a secure group.</summary>
    /// <param name="spreadName"><c>PORT@HOST</c>, <c>PORT</c> or empty.</param>
    /// <param name="privateName">The requested session name (at most 10 bytes).</param>
    /// <param name="group">The group to join.</param>
    /// <param name="options">Key agreement protocol, DH group, AEAD, identity, trusted keys, signatures, refresh.</param>
    /// <param name="cancellationToken">Cancels connecting and joining.</param>
    /// <returns>The member; its first <see cref="SecureView"/> follows once the group has a key.</returns>
    public static async ValueTask<SecureGroup> JoinAsync(string? spreadName, string privateName, string group, SecureGroupOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        SecureConnection connection = await SecureConnection.ConnectAsync(spreadName, privateName, options.LoggerFactory, cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.JoinAsync(group, options, cancellationToken).ConfigureAwait(false);
            return new SecureGroup(connection, group);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Seals a message under the current view's key and multicasts it to the view.</summary>
    /// <param name="messageType">The application's message type (sealed with the body).</param>
    /// <param name="body">The plaintext.</param>
    /// <param name="cancellationToken">Cancels waiting for a key.</param>
    /// <returns>A task that completes when the sealed message is written.</returns>
    public ValueTask SendAsync(short messageType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
        _connection.SendAsync(Group, messageType, body, cancellationToken);

    /// <summary>Receives the next secure event.</summary>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>A <see cref="SecureView"/>, <see cref="SecureMessage"/> or <see cref="SecureLeft"/>.</returns>
    /// <exception cref="SpreadException"><see cref="SpreadError.ConnectionClosed"/> when the session ends.</exception>
    public ValueTask<SecureEvent> ReceiveAsync(CancellationToken cancellationToken = default) => _connection.ReceiveAsync(cancellationToken);

    /// <summary>Asks for a new key for the same members (delivered as a <see cref="SecureView"/> with <see cref="SecureKeyEvent.Refresh"/>).</summary>
    /// <returns>True if a refresh started; false while the group is keying or has no key.</returns>
    public bool RequestRefresh() => _connection.RequestRefresh(Group);

    /// <summary>Leaves the group; a <see cref="SecureLeft"/> follows.</summary>
    /// <param name="cancellationToken">Cancels waiting to send.</param>
    /// <returns>A task that completes when the request is written.</returns>
    public ValueTask LeaveAsync(CancellationToken cancellationToken = default) => _connection.LeaveAsync(Group, cancellationToken);

    /// <summary>Disconnects and erases the keys.</summary>
    /// <returns>A task that completes when the session is closed.</returns>
    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
