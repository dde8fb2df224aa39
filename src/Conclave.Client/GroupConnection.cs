using System.Net.Sockets;
using Conclave.Client.Internal;
using Conclave.Protocol.Spread;

namespace Conclave.Client;

/// <summary>
/// A session ("mailbox") with a Spread 4 daemon — Conclave's or the real Spread 4.4 — over TCP or
/// the daemon's Unix socket: join and leave groups, multicast, and receive one ordered stream of data,
/// membership and reject messages.
/// </summary>
/// <remarks>
/// <para>
/// Sends may run concurrently with each other and with receiving; each frame goes out whole. Receiving
/// is single-consumer: call <see cref="ReceiveAsync(CancellationToken)"/>, <see cref="ReceiveFrameAsync"/>
/// or enumerate <see cref="ReadAllAsync"/> from one flow at a time, as Spread's one mailbox requires.
/// </para>
/// <para>
/// Keep receiving: a Spread daemon disconnects a session that leaves about 1,000 messages unread.
/// </para>
/// </remarks>
public sealed partial class GroupConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly FrameReader _reader;
    private readonly byte[] _privateGroupField = new byte[SpreadLimits.GroupNameSize];
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private const int Open = 0;
    private const int ClosedLocally = 1;
    private const int Lost = 2;

    private int _receiving;
    private int _closed;
    private volatile bool _disconnecting;

    private GroupConnection(Socket socket, FrameReader reader, string privateGroup, SpreadVersion daemonVersion, bool groupMembership, string spreadName)
    {
        _socket = socket;
        _reader = reader;
        PrivateGroup = privateGroup;
        DaemonVersion = daemonVersion;
        ReceivesMemberships = groupMembership;
        SpreadName = spreadName;
        NameField.Write(privateGroup, _privateGroupField);
    }

    /// <summary>Gets this session's private group, <c>#name#daemon</c>: the name other sessions unicast to.</summary>
    public string PrivateGroup { get; }

    /// <summary>Gets the daemon's version as it reported it in the handshake.</summary>
    public SpreadVersion DaemonVersion { get; }

    /// <summary>Gets a value indicating whether the session asked for membership messages.</summary>
    public bool ReceivesMemberships { get; }

    /// <summary>Gets the endpoint the session is connected to, as <c>PORT@HOST</c> or a Unix socket path.</summary>
    public string SpreadName { get; }

    /// <summary>Gets a value indicating whether the session has been disconnected, aborted or disposed.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != Open;

    private bool IsClosedLocally => Volatile.Read(ref _closed) == ClosedLocally;

    /// <summary>Connects to a daemon and runs the Spread 4.4 handshake.</summary>
    /// <param name="spreadName">
    /// <c>PORT@HOST</c> for TCP, <c>PORT</c> for the Unix socket <c>/tmp/PORT</c>, or empty for <c>4803</c>, as libspread reads it.
    /// </param>
    /// <param name="privateName">
    /// The requested session name, at most 10 bytes (longer names are truncated, as libspread does);
    /// empty asks the daemon to generate one.
    /// </param>
    /// <param name="groupMembership">True to receive membership messages for the groups this session joins.</param>
    /// <param name="cancellationToken">Cancels connecting.</param>
    /// <returns>The open session.</returns>
    /// <exception cref="SpreadException">
    /// The name is malformed (<see cref="SpreadError.IllegalSpread"/>), no daemon answered
    /// (<see cref="SpreadError.CouldNotConnect"/>), the daemon rejected the session (its code, e.g.
    /// <see cref="SpreadError.RejectNotUnique"/>), or the connection closed (<see cref="SpreadError.ConnectionClosed"/>).
    /// </exception>
    public static ValueTask<GroupConnection> ConnectAsync(string? spreadName, string privateName, bool groupMembership, CancellationToken cancellationToken = default) =>
        ConnectAsync(spreadName, privateName, groupMembership, priority: 0, cancellationToken);

    /// <summary>Connects to a daemon with a session priority (parsed by Spread 4.4 but without visible effect).</summary>
    /// <param name="spreadName"><c>PORT@HOST</c>, <c>PORT</c> or empty, as in <see cref="ConnectAsync(string?, string, bool, CancellationToken)"/>.</param>
    /// <param name="privateName">The requested session name (at most 10 bytes; empty = generated).</param>
    /// <param name="groupMembership">True to receive membership messages.</param>
    /// <param name="priority">The priority, 0 or 1, sent in the high nibble of the flags byte.</param>
    /// <param name="cancellationToken">Cancels connecting.</param>
    /// <returns>The open session.</returns>
    /// <exception cref="SpreadException">As for <see cref="ConnectAsync(string?, string, bool, CancellationToken)"/>.</exception>
    public static async ValueTask<GroupConnection> ConnectAsync(string? spreadName, string privateName, bool groupMembership, int priority, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(privateName);
        ArgumentOutOfRangeException.ThrowIfNegative(priority);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(priority, 15);
        SpreadEndpoint endpoint = SpreadEndpoint.Parse(spreadName);
        Socket socket = await endpoint.ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var reader = new FrameReader(socket);
            byte flags = (byte)((priority << 4) | (groupMembership ? ConnectRequest.MembershipFlag : 0));
            (string privateGroup, SpreadVersion version) = await Handshake.RunAsync(socket, reader, privateName, flags, cancellationToken).ConfigureAwait(false);
            return new GroupConnection(socket, reader, privateGroup, version, groupMembership, endpoint.ToString());
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Disconnects: tells the daemon (KILL_MESS), which then sends the other members a CAUSED_BY_DISCONNECT view, and closes the socket.</summary>
    /// <param name="cancellationToken">Cancels waiting to send the request.</param>
    /// <returns>A task that completes when the request is sent and the socket closed.</returns>
    /// <remarks>Calling it on a closed session does nothing.</remarks>
    public async ValueTask DisconnectAsync(CancellationToken cancellationToken = default)
    {
        if (IsClosed)
        {
            return;
        }

        // The daemon closes as soon as it reads the KILL; a receive that sees that end must not report a lost session.
        _disconnecting = true;
        try
        {
            await SendFrameAsync(ServiceType.KillRequest, PrivateGroup, null, 0, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }
        catch (SpreadException e) when (e.Error == SpreadError.ConnectionClosed)
        {
            // The daemon is gone already; closing is all that is left to do.
        }
        finally
        {
            Abort();
        }
    }

    /// <summary>Closes the socket without telling the daemon, like libspread's <c>SP_kill</c>; the daemon treats the end of the stream as a disconnect.</summary>
    public void Abort() => Close(ClosedLocally);

    /// <summary>Closes the socket once; the first reason (local close or loss of the session) sticks.</summary>
    private void Close(int reason)
    {
        if (Interlocked.CompareExchange(ref _closed, reason, Open) != Open)
        {
            return;
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer.
        }

        _socket.Dispose();
    }

    /// <summary>Disconnects (as <see cref="DisconnectAsync"/>) if still connected, and releases the socket.</summary>
    /// <returns>A task that completes when the session is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        // The send lock is not disposed: a send racing with disposal must fail with CONNECTION_CLOSED, not ObjectDisposedException.
        await DisconnectAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override string ToString() => $"{PrivateGroup} at {SpreadName}";
}
