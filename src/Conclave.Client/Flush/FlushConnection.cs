using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using Conclave.Client.Flush.Internal;
using Conclave.Client.Internal;
using Conclave.Protocol.Spread;
using Microsoft.Extensions.Logging;

namespace Conclave.Client.Flush;

/// <summary>
/// A Spread session with Spread's Flush (View Synchrony) semantics, wire-compatible with Spread's own
/// Flush library: closed groups, views with vs-sets, flush requests answered by <see cref="FlushOkAsync"/>,
/// and every message delivered in the view in which it was sent.
/// </summary>
/// <remarks>
/// <para>
/// Keep receiving: the protocol advances only as <see cref="ReceiveAsync"/> (or <see cref="ReadAllAsync"/>)
/// consumes the session's messages, and sends held during a flush complete only when the next view is installed.
/// Receiving is single-consumer; sends may run concurrently with it and with each other.
/// </para>
/// <para>Message types below -32765 are reserved by the Flush layer.</para>
/// </remarks>
public sealed class FlushConnection : IAsyncDisposable
{
    private const ServiceType LegalSendBits = ServiceType.RegularMask | ServiceType.SelfDiscard;

    private readonly GroupConnection _connection;
    private readonly FlushCore _core;
    private readonly FlushGate _gate = new();
    private TaskCompletionSource? _progress;
    private int _receiving;

    // The frame whose body a message of LentBodyType still points into, and whether that message was handed out (then
    // the next receive returns the frame to the pool). Only the receiving flow touches these.
    private SpreadFrame _lentFrame;
    private FlushDataMessage? _lentMessage;
    private bool _lentReturned;

    private FlushConnection(GroupConnection connection, FlushOptions options)
    {
        _connection = connection;
        _core = new FlushCore(connection.PrivateGroup, options.AutoFlushOk)
        {
            Log = options.LoggerFactory is ILoggerFactory factory ? new FlushLog(factory.CreateLogger("Conclave.Client.Flush")) : null,
        };
    }

    /// <summary>Gets the coordinator exchange's dropped control messages (coordinated groups only; read while the session is quiet).</summary>
    internal FlushCoordinationCounters Coordination => _core.Coordination;

    /// <summary>Gets this session's private group, <c>#name#daemon</c>.</summary>
    public string PrivateGroup => _connection.PrivateGroup;

    /// <summary>Gets the messages this session received but did not deliver, by reason (live counters).</summary>
    public FlushDropCounters Drops => _core.Drops;

    /// <summary>
    /// Gets or sets the message type whose group messages are delivered with a body that is still in the received,
    /// pooled frame instead of a copy: valid only until the next <see cref="ReceiveAsync"/>. For a layer above that
    /// consumes such messages before receiving again (the secure layer opens sealed messages); null: always copy.
    /// </summary>
    internal short? LentBodyType { get; set; }

    /// <summary>Connects to a daemon (always asking for membership messages, as FL_connect does).</summary>
    /// <param name="spreadName"><c>PORT@HOST</c>, <c>PORT</c> or empty, as for <see cref="GroupConnection.ConnectAsync(string?, string, bool, CancellationToken)"/>.</param>
    /// <param name="privateName">The requested session name (at most 10 bytes; empty = generated).</param>
    /// <param name="options">The layer's options, or null for the defaults.</param>
    /// <param name="cancellationToken">Cancels connecting.</param>
    /// <returns>The open session.</returns>
    /// <exception cref="SpreadException">As for <see cref="GroupConnection.ConnectAsync(string?, string, bool, CancellationToken)"/>.</exception>
    public static async ValueTask<FlushConnection> ConnectAsync(string? spreadName, string privateName, FlushOptions? options = null, CancellationToken cancellationToken = default)
    {
        GroupConnection connection = await GroupConnection.ConnectAsync(spreadName, privateName, groupMembership: true, cancellationToken).ConfigureAwait(false);
        return new FlushConnection(connection, options ?? new FlushOptions());
    }

    /// <summary>Joins a group; its first <see cref="FlushView"/> follows once every member flushed.</summary>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Cancels waiting to send.</param>
    /// <returns>A task that completes when the request is written.</returns>
    /// <exception cref="SpreadException"><see cref="SpreadError.IllegalGroup"/> if the session is already involved with the group or the name is illegal.</exception>
    public ValueTask JoinAsync(string group, CancellationToken cancellationToken = default) => JoinAsync(group, agreedOnly: false, cancellationToken);

    /// <summary>Joins a group; <paramref name="agreedOnly"/> for a group whose members only send AGREED or SAFE (secure groups: no FLUSH_RECV round, see <see cref="FlushCore.MarkAgreedOnly"/>).</summary>
    internal ValueTask JoinAsync(string group, bool agreedOnly, CancellationToken cancellationToken) => JoinAsync(group, agreedOnly, coordinated: false, cancellationToken);

    /// <summary>As <see cref="JoinAsync(string, bool, CancellationToken)"/>; <paramref name="coordinated"/> (agreed-only only) for the coordinator flush exchange, which every member of the group must use.</summary>
    internal async ValueTask JoinAsync(string group, bool agreedOnly, bool coordinated, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _core.CheckJoin(group);
            if (agreedOnly)
            {
                _core.MarkAgreedOnly(group, coordinated);
            }

            try
            {
                await _connection.JoinAsync(group, cancellationToken).ConfigureAwait(false);
            }
            catch when (agreedOnly)
            {
                _core.UnmarkAgreedOnly(group);
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Leaves a group; events of the group flow until a <see cref="FlushSelfLeave"/>.</summary>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Cancels waiting to send.</param>
    /// <returns>A task that completes when the request is written.</returns>
    /// <exception cref="SpreadException"><see cref="SpreadError.IllegalGroup"/> if the session is not a member or already leaving.</exception>
    public async ValueTask LeaveAsync(string group, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _core.Leave(group);
            await _connection.LeaveAsync(group, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Answers the group's pending <see cref="FlushRequest"/>: the application is done sending in the current view.</summary>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Cancels waiting for the layer.</param>
    /// <returns>A task that completes when the FLUSH_OK is written.</returns>
    /// <remarks>A session that is leaving the group need not answer: its leave completes the flush for it, and an answer is ignored.</remarks>
    /// <exception cref="InvalidOperationException">No flush request of the group is waiting for an answer.</exception>
    /// <exception cref="SpreadException"><see cref="SpreadError.IllegalGroup"/> if the session is not involved with the group.</exception>
    public async ValueTask FlushOkAsync(string group, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _core.FlushOk(group);
            await DrainSendsAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Multicasts to the members of the group's current view, or sends to a private group.</summary>
    /// <param name="service">One data service, optionally with <see cref="ServiceType.SelfDiscard"/>.</param>
    /// <param name="group">A group this session is a member of, or a private group <c>#name#daemon</c>.</param>
    /// <param name="messageType">The application's message type, at least -32765.</param>
    /// <param name="body">The body.</param>
    /// <param name="cancellationToken">Cancels waiting (for a held send, too).</param>
    /// <returns>A task that completes when the message is written; during a flush, after the next view is installed.</returns>
    /// <exception cref="SpreadException">
    /// <see cref="SpreadError.IllegalService"/>, <see cref="SpreadError.IllegalMessage"/> for a reserved type,
    /// <see cref="SpreadError.IllegalGroup"/> if the session is not a member, or <see cref="SpreadError.ConnectionClosed"/>.
    /// </exception>
    public ValueTask MulticastAsync(ServiceType service, string group, short messageType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
        SendAsync(service, group, null, messageType, body, cancellationToken);

    /// <summary>Sends to one member of the group's current view (FL_unicast).</summary>
    /// <remarks>
    /// As Spread's Flush library does, the message carries FL's SUBGROUP_CAST bit (0x40000000) in its type word;
    /// only daemons that forward that bit deliver it (Conclave's daemon and Spread's do, docs/flush.md).
    /// </remarks>
    /// <param name="service">One data service, optionally with <see cref="ServiceType.SelfDiscard"/>.</param>
    /// <param name="group">The group whose view the message belongs to.</param>
    /// <param name="receiver">The receiver's private group; it must be in the current view.</param>
    /// <param name="messageType">The application's message type, at least -32765.</param>
    /// <param name="body">The body.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>A task that completes when the message is written.</returns>
    /// <exception cref="SpreadException">As for <see cref="MulticastAsync"/>; <see cref="SpreadError.IllegalGroup"/> if the receiver is not in the view.</exception>
    public ValueTask UnicastAsync(ServiceType service, string group, string receiver, short messageType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
        SendAsync(service, group, [receiver], messageType, body, cancellationToken);

    /// <summary>Sends to a subset of the group's current view (FL_subgroupcast).</summary>
    /// <remarks>The message carries FL's SUBGROUP_CAST type bit, as for <see cref="UnicastAsync"/>.</remarks>
    /// <param name="service">One data service, optionally with <see cref="ServiceType.SelfDiscard"/>.</param>
    /// <param name="group">The group whose view the message belongs to.</param>
    /// <param name="receivers">1..100 receivers, all in the current view.</param>
    /// <param name="messageType">The application's message type, at least -32765.</param>
    /// <param name="body">The body.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>A task that completes when the message is written.</returns>
    /// <exception cref="SpreadException">As for <see cref="UnicastAsync"/>.</exception>
    public ValueTask SubgroupcastAsync(ServiceType service, string group, IReadOnlyList<string> receivers, short messageType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(receivers);
        if (receivers.Count is 0 or > SpreadLimits.MaxGroupsPerMessage)
        {
            throw new SpreadException(SpreadError.IllegalGroup, $"A subgroupcast needs 1..{SpreadLimits.MaxGroupsPerMessage} receivers.");
        }

        return SendAsync(service, group, [.. receivers], messageType, body, cancellationToken);
    }

    /// <summary>Receives the next event: data, flush request, transitional signal, view or self-leave, in one order.</summary>
    /// <param name="cancellationToken">Cancels waiting; a message already read from the daemon is never lost.</param>
    /// <returns>The next event.</returns>
    /// <exception cref="SpreadException"><see cref="SpreadError.ConnectionClosed"/> when the session ends.</exception>
    public async ValueTask<FlushEvent> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _receiving, 1) != 0)
        {
            throw new InvalidOperationException("Another receive is in progress: a Flush session has one ordered stream.");
        }

        try
        {
            ReturnLentFrame();
            while (true)
            {
                // Only the receiving flow (one at a time) fills and empties the delivery queue: no gate needed here,
                // which spares a sender holding the gate a contended wait per message.
                if (_core.Deliveries.TryDequeue(out FlushEvent? ready))
                {
                    return HandOut(ready);
                }

                if (await ReceiveAndHandleAsync(cancellationToken).ConfigureAwait(false) is FlushEvent next)
                {
                    return next;
                }
            }
        }
        finally
        {
            Volatile.Write(ref _receiving, 0);
        }
    }

    /// <summary>Receives events until the session is closed locally.</summary>
    /// <param name="cancellationToken">Ends the enumeration.</param>
    /// <returns>The events, in order.</returns>
    public async IAsyncEnumerable<FlushEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            FlushEvent e;
            try
            {
                e = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SpreadException ex) when (ex.Error == SpreadError.ConnectionClosed && _connection.WasClosedLocally)
            {
                yield break;
            }

            yield return e;
        }
    }

    /// <summary>Disconnects from the daemon; the other members see this session leave every group.</summary>
    /// <param name="cancellationToken">Cancels waiting to send the request.</param>
    /// <returns>A task that completes when the session is closed.</returns>
    public ValueTask DisconnectAsync(CancellationToken cancellationToken = default) => _connection.DisconnectAsync(cancellationToken);

    /// <summary>Disconnects (see <see cref="DisconnectAsync"/>) and releases the session.</summary>
    /// <returns>A task that completes when the session is closed.</returns>
    /// <remarks>The gate is left undisposed on purpose: a receive or send still in flight must end with <see cref="SpreadError.ConnectionClosed"/>, not an <see cref="ObjectDisposedException"/>.</remarks>
    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    /// <summary>
    /// Writes and sends a message only while <paramref name="group"/>'s installed view is <paramref name="view"/>
    /// and no flush answer is pending, so what <paramref name="write"/> binds to that view goes out in it. The body is
    /// written into a pooled buffer of exactly <paramref name="bodyLength"/> bytes, which goes back once the frame is sent.
    /// </summary>
    /// <returns>False, sending nothing, when the view moved on or a flush is under way, or <paramref name="write"/> returned false.</returns>
    internal async ValueTask<bool> TrySendInViewAsync<TState>(string group, GroupId view, ServiceType service, short messageType, int bodyLength, BodyWriter<TState> write, TState state, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        bool gateHeld = true;
        byte[]? buffer = null;
        try
        {
            FlushGroup? g = _core.Group(group);
            if (g is null || !g.Joined || g.Leaving || g.Phase == FlushPhase.Agree || g.View.Id != view)
            {
                return false;
            }

            if (messageType >= FlushWire.MinApplicationType && !g.IsVulnerable(service))
            {
                // The usual case: the body is written straight into the session's send batch under the gate, which fixes
                // its place before any FLUSH_OK; the socket write happens after the gate is released, so the receive
                // loop is not held up behind a system call.
                switch (_connection.TryQueueFrame(service, group, null, messageType, bodyLength, write, state))
                {
                    case GroupConnection.QueuedFrame.Refused:
                        return false;
                    case GroupConnection.QueuedFrame.Queued:
                        return true;
                    case GroupConnection.QueuedFrame.QueuedWriter:
                        gateHeld = false;
                        _gate.Release();
                        await _connection.WriteQueuedAsync().ConfigureAwait(false);
                        return true;
                }
            }

            buffer = ArrayPool<byte>.Shared.Rent(bodyLength);
            if (!write(state, buffer.AsSpan(0, bodyLength)))
            {
                return false;
            }

            ReadOnlyMemory<byte> body = buffer.AsMemory(0, bodyLength);
            if (messageType < FlushWire.MinApplicationType || g.IsVulnerable(service))
            {
                // A reserved type is refused there; a vulnerable send needs FL's tail, so its own body.
                await SendOneAsync(_core.PrepareSend(group, service, messageType, body.Span, null)!, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // No tail: the body goes out as it is, copied only into the session's send batch.
                await _connection.MulticastAsync(service, group, messageType, body, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (gateHeld)
            {
                _gate.Release();
            }
        }
    }

    /// <summary>
    /// Sends to a member's private group on behalf of <paramref name="group"/>'s view <paramref name="view"/>, with the
    /// same holding rule as a multicast of the group: between our FLUSH_OK and the next view the send waits, and once
    /// the view has moved on it is dropped (whatever it carried belonged to the old view).
    /// </summary>
    /// <returns>False, sending nothing, when the view is over or the session left the group.</returns>
    internal async ValueTask<bool> TrySendPrivateInViewAsync(string group, GroupId view, string receiver, ServiceType service, short messageType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task progress;
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                FlushGroup? g = _core.Group(group);
                if (g is null || !g.Joined || g.Leaving || g.View.Id != view)
                {
                    return false;
                }

                if (g.Phase != FlushPhase.Agree)
                {
                    await _connection.MulticastAsync(service, receiver, messageType, body, cancellationToken).ConfigureAwait(false);
                    return true;
                }

                progress = (_progress ??= NewSignal()).Task;
            }
            finally
            {
                _gate.Release();
            }

            await progress.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads one frame from the daemon, runs it through the protocol and returns the next event if it produced one.</summary>
    private async ValueTask<FlushEvent?> ReceiveAndHandleAsync(CancellationToken cancellationToken)
    {
        SpreadFrame frame = await _connection.ReceiveFrameAsync(cancellationToken).ConfigureAwait(false);
        bool kept = false;
        try
        {
            // Once read, a message must reach the core: no cancellation from here on.
            await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                // FLUSH_OKs and FLUSH_RECVs (2n² deliveries per membership change) and plain data are read in place; the rest
                // is decoded. One frame at a time may lend its body to a delivered message instead of copying it.
                if (!_core.TryHandleInPlace(frame, _lentMessage is null ? LentBodyType : null, out FlushDataMessage? lent))
                {
                    _core.Handle(MessageDecoder.Decode(frame, _connection.PrivateGroup));
                }
                else if (lent is not null)
                {
                    (_lentFrame, _lentMessage, kept) = (frame, lent, true);
                }

                await DrainSendsAsync().ConfigureAwait(false);
                return _core.Deliveries.TryDequeue(out FlushEvent? ready) ? HandOut(ready) : null;
            }
            finally
            {
                // Only senders held by a flush wait for progress; with none waiting there is nothing to signal.
                TaskCompletionSource? progress = _progress;
                _progress = null;
                _gate.Release();
                progress?.SetResult();
            }
        }
        finally
        {
            if (!kept)
            {
                frame.Dispose();
            }
        }
    }

    /// <summary>Notes that the message lending the kept frame's body went to the caller: the next receive frees the frame.</summary>
    private FlushEvent HandOut(FlushEvent e)
    {
        _lentReturned |= ReferenceEquals(e, _lentMessage);
        return e;
    }

    /// <summary>Returns the kept frame to the pool once its message was handed out and the caller came back for more.</summary>
    private void ReturnLentFrame()
    {
        if (_lentReturned)
        {
            _lentFrame.Dispose();
            (_lentFrame, _lentMessage, _lentReturned) = (default, null, false);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async ValueTask SendAsync(ServiceType service, string group, IReadOnlyList<string>? receivers, short messageType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(group);
        if ((service & ~LegalSendBits) != 0 || BitOperations.PopCount((uint)(service & ServiceType.RegularMask)) != 1)
        {
            throw new SpreadException(SpreadError.IllegalService, $"{service} is not one data service, optionally with SELF_DISCARD.");
        }

        if (receivers is null && group.Contains('#', StringComparison.Ordinal))
        {
            // FL lets a session send to a private group outside any view.
            await _connection.MulticastAsync(service, group, messageType, body, cancellationToken).ConfigureAwait(false);
            return;
        }

        while (true)
        {
            Task progress;
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            bool gateHeld = true;
            try
            {
                Outgoing? message = _core.PrepareSend(group, service, messageType, body, receivers);
                if (message is not null)
                {
                    // Queued under the gate (its place before any FLUSH_OK is fixed), written after releasing it; a frame
                    // too large for the batch, or a full batch, goes the ordinary way under the gate.
                    switch (_connection.TryQueueFrame(message.Service, null, message.Groups, message.MessageType, message.Body.Length, static (b, destination) => b.AsSpan().TryCopyTo(destination), message.Body))
                    {
                        case GroupConnection.QueuedFrame.QueuedWriter:
                            gateHeld = false;
                            _gate.Release();
                            await _connection.WriteQueuedAsync().ConfigureAwait(false);
                            break;
                        case GroupConnection.QueuedFrame.NotQueued:
                            await SendOneAsync(message, cancellationToken).ConfigureAwait(false);
                            break;
                    }

                    return;
                }

                progress = (_progress ??= NewSignal()).Task;
            }
            finally
            {
                if (gateHeld)
                {
                    _gate.Release();
                }
            }

            // Held between our FLUSH_OK and the next view: wait for the receive side to move the protocol.
            await progress.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask DrainSendsAsync()
    {
        while (_core.Sends.TryDequeue(out Outgoing? message))
        {
            await SendOneAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private ValueTask SendOneAsync(Outgoing message, CancellationToken cancellationToken) =>
        _connection.SendFlushFrameAsync(message.Service, message.Groups, message.MessageType, message.Body, cancellationToken);
}
