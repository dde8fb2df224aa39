using System.Buffers;
using System.Threading.Channels;
using Conclave.Client.Diagnostics;
using Conclave.Client.Flush;
using Conclave.Client.Secure.Internal;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Conclave.Protocol.Spread;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conclave.Client.Secure;

/// <summary>
/// One Flush session carrying several groups: secure groups, each with its own key agreement module, AEAD, trust
/// policy and refresh timer, and plain Flush groups side by side. Events of every group come out of one
/// <see cref="ReceiveAsync"/> stream, in order.
/// </summary>
/// <remarks>
/// Flush requests are answered automatically. Keep receiving: key agreement, like the Flush protocol under it,
/// advances only as events are received. Receiving is single-consumer; sends may run concurrently with it.
/// </remarks>
public sealed class SecureConnection : IAsyncDisposable
{
    private readonly FlushConnection _flush;
    private readonly object _lock = new();

    // Orders sealed sends: a sequence number is taken when a message is sealed, outside the Flush gate, so two
    // concurrent senders must not reach the batch in the other order (receivers reject a lower sequence as a replay).
    private readonly SemaphoreSlim _sealOrder = new(1, 1);
    private readonly Dictionary<string, SecureGroupState> _secure = new(StringComparer.Ordinal);
    private readonly HashSet<string> _plain = new(StringComparer.Ordinal);
    private readonly Queue<SecureEvent> _deliveries = new();

    // How many events wait in _deliveries: written under the lock, read without it so that the usual receive (nothing
    // waiting) takes the lock once per message, not twice.
    private int _waitingDeliveries;
    private readonly Channel<(string Group, KeyAgreementSend Send)> _keyAgreementSends = Channel.CreateUnbounded<(string, KeyAgreementSend)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _sendLoop;
    private readonly CancellationTokenSource _closing = new();
    private TaskCompletionSource? _progress;
    private long _eventsHandled;
    private int _receiving;
    private bool _disposed;
    private long _droppedPrivate;
    private long _privateKeyAgreement;
    private long _precomputationsRun;

    private SecureConnection(FlushConnection flush)
    {
        _flush = flush;

        // Sealed messages are opened before the next receive: their ciphertext need not be copied out of the frame.
        _flush.LentBodyType = SecureGroupCore.SealedType;
        _sendLoop = Task.Run(SendKeyAgreementAsync);
    }

    /// <summary>Gets this session's private group (its name in views and in trust directories).</summary>
    public string PrivateGroup => _flush.PrivateGroup;

    /// <summary>Gets the messages the Flush layer under this session received but did not deliver, by reason (live counters).</summary>
    public FlushDropCounters FlushDrops => _flush.Drops;

    /// <summary>Gets how many messages to this session's private group were dropped: key agreement unicasts that were malformed or for a secure group the session is not in, and anything else no group of this session handles.</summary>
    public long DroppedPrivateMessages => Interlocked.Read(ref _droppedPrivate);

    /// <summary>Gets how many pieces of key agreement work prepared for a next change have run (tests).</summary>
    internal long PrecomputationsRun => Interlocked.Read(ref _precomputationsRun);

    /// <summary>Gets how many key agreement unicasts came through the private group to a secure group's module (tests).</summary>
    internal long PrivateKeyAgreementReceived => Interlocked.Read(ref _privateKeyAgreement);

    /// <summary>Connects to a daemon.</summary>
    /// <param name="spreadName"><c>PORT@HOST</c>, <c>PORT</c> or empty.</param>
    /// <param name="privateName">The requested session name (at most 10 bytes).</param>
    /// <param name="cancellationToken">Cancels connecting.</param>
    /// <returns>The open session, in no group yet.</returns>
    public static ValueTask<SecureConnection> ConnectAsync(string? spreadName, string privateName, CancellationToken cancellationToken = default) =>
        ConnectAsync(spreadName, privateName, null, cancellationToken);

    /// <summary>Connects to a daemon, with the Flush layer logging its debug events to <paramref name="loggerFactory"/>.</summary>
    internal static async ValueTask<SecureConnection> ConnectAsync(string? spreadName, string privateName, ILoggerFactory? loggerFactory, CancellationToken cancellationToken)
    {
        FlushConnection flush = await FlushConnection.ConnectAsync(spreadName, privateName, new FlushOptions { AutoFlushOk = true, LoggerFactory = loggerFactory }, cancellationToken).ConfigureAwait(false);
        return new SecureConnection(flush);
    }

    /// <summary>Joins a secure group with its own options; its first <see cref="SecureView"/> follows once the group has a key.</summary>
    /// <param name="group">The group.</param>
    /// <param name="options">Module, DH group, AEAD, identity, directory, trust policy, signatures and refresh interval.</param>
    /// <param name="cancellationToken">Cancels waiting to send the join.</param>
    /// <returns>A task that completes when the join is written.</returns>
    /// <exception cref="ArgumentException">The trust policy leaves this member itself out.</exception>
    public async ValueTask JoinAsync(string group, SecureGroupOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Trust.Allows(PrivateGroup, options.Directory))
        {
            throw new ArgumentException($"The trust policy does not allow this member ({PrivateGroup}) itself.", nameof(options));
        }

        IGroupKeyAgreement module = KeyAgreementFactory.Create(options.Protocol, new KeyAgreementOptions
        {
            Group = group,
            Self = PrivateGroup,
            Identity = options.Identity,
            Directory = options.Directory,
            DhGroup = options.DhGroup,
            Counter = options.Counter ?? new OperationCounter(),
        });
        var observer = new SecureGroupTelemetry(group, options.Protocol.ToString().ToLowerInvariant(), options.MeterFactory,
            (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Conclave.Client.Secure"));
        var state = new SecureGroupState(new SecureGroupCore(module, group, PrivateGroup, options) { Observer = observer }, options.RefreshInterval) { Telemetry = observer };
        lock (_lock)
        {
            if (_secure.ContainsKey(group) || _plain.Contains(group))
            {
                state.Core.Dispose();
                throw new SpreadException(SpreadError.IllegalGroup, $"This session is already in {group}.");
            }

            _secure[group] = state;
            if (options.RefreshInterval is TimeSpan interval)
            {
                state.StartTimer(interval, () => RefreshIfDue(group));
            }
        }

        try
        {
            // Every message of a secure group goes AGREED: the Flush layer can skip its FLUSH_RECV round (and, coordinated, FL's n² FLUSH_OKs).
            await _flush.JoinAsync(group, agreedOnly: true, options.CoordinatedFlush, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_lock)
            {
                _secure.Remove(group);
                state.Core.Dispose();
            }

            throw;
        }
    }

    /// <summary>Joins a plain Flush group on the same session: its events come as <see cref="PlainGroupEvent"/>s, its messages unencrypted.</summary>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Cancels waiting to send the join.</param>
    /// <returns>A task that completes when the join is written.</returns>
    public async ValueTask JoinPlainAsync(string group, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        lock (_lock)
        {
            if (_secure.ContainsKey(group) || !_plain.Add(group))
            {
                throw new SpreadException(SpreadError.IllegalGroup, $"This session is already in {group}.");
            }
        }

        await _flush.JoinAsync(group, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Multicasts to a group: sealed under the group's current key for a secure group (waiting for one), AGREED as is for a plain group.</summary>
    /// <param name="group">A group this session joined.</param>
    /// <param name="messageType">The application's message type (sealed with the body in a secure group).</param>
    /// <param name="body">The plaintext.</param>
    /// <param name="cancellationToken">Cancels waiting for a key.</param>
    /// <returns>A task that completes when the message is written.</returns>
    /// <exception cref="SpreadException"><see cref="SpreadError.IllegalGroup"/> if the session is not in the group (or left it while waiting).</exception>
    public async ValueTask SendAsync(string group, short messageType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        while (true)
        {
            long seen;
            GroupId? keyed;
            SecureGroupState? state;
            lock (_lock)
            {
                if (_disposed)
                {
                    throw new SpreadException(SpreadError.ConnectionClosed, "The session is closed.");
                }

                if (_plain.Contains(group))
                {
                    state = null;
                    keyed = null;
                }
                else if (!_secure.TryGetValue(group, out state) || state.Core.Left)
                {
                    throw new SpreadException(SpreadError.IllegalGroup, $"This session is not in secure group {group}.");
                }
                else
                {
                    keyed = state.Core.KeyedView;
                }

                seen = _eventsHandled;
            }

            if (state is null)
            {
                await _flush.MulticastAsync(ServiceType.Agreed, group, messageType, body, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (keyed is GroupId view && await TrySendSealedAsync(group, state, view, messageType, body, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            Task progress;
            lock (_lock)
            {
                // Whatever stopped the send changes only as events are handled: if one was, try again at once.
                if (_eventsHandled != seen)
                {
                    continue;
                }

                progress = (_progress ??= NewSignal()).Task;
            }

            await progress.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Asks for a new key of a secure group for the same members (Table 1's key refresh).</summary>
    /// <param name="group">A secure group this session joined.</param>
    /// <returns>True if a refresh run started (or was asked of the controller); false while the group is keying or has no key.</returns>
    public bool RequestRefresh(string group)
    {
        bool started;
        TaskCompletionSource? progress = null;
        lock (_lock)
        {
            if (!_secure.TryGetValue(group, out SecureGroupState? state))
            {
                throw new SpreadException(SpreadError.IllegalGroup, $"This session is not in secure group {group}.");
            }

            started = state.Core.RequestRefresh();
            if (started)
            {
                progress = Collect(state);
            }
        }

        progress?.SetResult();
        return started;
    }

    /// <summary>Gets what a secure group refused so far and how many keys it installed.</summary>
    /// <param name="group">A secure group this session joined.</param>
    /// <returns>The group's live counters.</returns>
    public SecureGroupCounters Counters(string group)
    {
        lock (_lock)
        {
            return _secure.TryGetValue(group, out SecureGroupState? state)
                ? state.Core.Counters
                : throw new SpreadException(SpreadError.IllegalGroup, $"This session is not in secure group {group}.");
        }
    }

    /// <summary>Receives the next event of any group: <see cref="SecureView"/>, <see cref="SecureMessage"/>, <see cref="SecureLeft"/> or <see cref="PlainGroupEvent"/>.</summary>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The next event.</returns>
    /// <exception cref="SpreadException"><see cref="SpreadError.ConnectionClosed"/> when the session ends.</exception>
    public async ValueTask<SecureEvent> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _receiving, 1) != 0)
        {
            throw new InvalidOperationException("Another receive is in progress.");
        }

        try
        {
            while (true)
            {
                if (Volatile.Read(ref _waitingDeliveries) > 0)
                {
                    lock (_lock)
                    {
                        if (TryTakeDelivery(out SecureEvent? ready))
                        {
                            return ready;
                        }
                    }
                }

                FlushEvent e = await _flush.ReceiveAsync(cancellationToken).ConfigureAwait(false);
                if (RunsKeyAgreement(e) && !Thread.CurrentThread.IsThreadPoolThread)
                {
                    // Public-key work (a verification and an exponentiation per member, a whole list for a controller) must
                    // not run on the socket's event thread, which inline completions make this one: that thread serves every
                    // other socket of the process, so members sharing a process would be keyed one after another.
                    await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
                }

                TaskCompletionSource? progress;
                SecureEvent? next;
                lock (_lock)
                {
                    if (_secure.TryGetValue(e.Group, out SecureGroupState? state))
                    {
                        state.Observe(e);
                        state.Core.Handle(e);
                        progress = Collect(state);
                        if (state.Core.Left)
                        {
                            _secure.Remove(e.Group);
                            state.Dispose();
                        }
                    }
                    else if (e is FlushDataMessage { MessageType: PrivateKeyAgreement.MessageType } unicast && e.Group == PrivateGroup)
                    {
                        progress = OnPrivateKeyAgreement(unicast);
                    }
                    else
                    {
                        if (_plain.Contains(e.Group))
                        {
                            Deliver(new PlainGroupEvent(OwnedBody(e)));
                            if (e is FlushSelfLeave)
                            {
                                _plain.Remove(e.Group);
                            }
                        }
                        else if (e.Group == PrivateGroup)
                        {
                            Interlocked.Increment(ref _droppedPrivate);
                        }

                        progress = NextSignal();
                    }

                    // The usual case (a data message opened into one delivery) returns here, without another turn of the lock.
                    TryTakeDelivery(out next);
                }

                progress?.SetResult();
                if (next is not null)
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

    /// <summary>Leaves a group; a <see cref="SecureLeft"/> (or a plain self-leave) follows.</summary>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Cancels waiting to send.</param>
    /// <returns>A task that completes when the request is written.</returns>
    public ValueTask LeaveAsync(string group, CancellationToken cancellationToken = default) => _flush.LeaveAsync(group, cancellationToken);

    /// <summary>Disconnects and erases every key.</summary>
    /// <returns>A task that completes when the session is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        // Sends waiting for a key wake up and see the session is gone.
        TaskCompletionSource? progress;
        lock (_lock)
        {
            progress = NextSignal();
        }

        progress?.SetResult();
        _keyAgreementSends.Writer.TryComplete();

        // A key agreement send held by a flush would wait for a view that never comes once nobody receives.
        await _closing.CancelAsync().ConfigureAwait(false);
        await _flush.DisposeAsync().ConfigureAwait(false);
        await _sendLoop.ConfigureAwait(false);
        lock (_lock)
        {
            foreach (SecureGroupState state in _secure.Values)
            {
                state.Dispose();
            }

            _secure.Clear();
        }

        _closing.Dispose();
    }

    /// <summary>The core of a secure group (tests reach its key and captured ciphertext).</summary>
    internal SecureGroupCore? CoreOf(string group)
    {
        lock (_lock)
        {
            return _secure.GetValueOrDefault(group)?.Core;
        }
    }

    /// <summary>A plain group's message of the sealed type still lends its body from the received frame: the application gets a copy.</summary>
    private static FlushEvent OwnedBody(FlushEvent e) =>
        e is FlushDataMessage { MessageType: SecureGroupCore.SealedType } m
            ? new FlushDataMessage(m.Group, m.Sender, m.Service, m.MessageType, m.Receivers, m.EndianMismatch, m.Body.ToArray())
            : e;

    /// <summary>True for the events that run a key agreement step: views, and key agreement messages to the group or to this session.</summary>
    private static bool RunsKeyAgreement(FlushEvent e) =>
        e is FlushView or FlushDataMessage { MessageType: SecureGroupCore.KeyAgreementType or PrivateKeyAgreement.MessageType };

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Moves a core's outputs out (under the lock) and returns the progress signal to fire once the lock is released.</summary>
    private TaskCompletionSource? Collect(SecureGroupState state)
    {
        while (state.Core.Sends.TryDequeue(out KeyAgreementSend send))
        {
            _keyAgreementSends.Writer.TryWrite((state.Core.Group, send));
        }

        while (state.Core.Precomputations.TryDequeue(out KeyAgreementPrecomputation? work))
        {
            // A GDH controller's next share: n − 1 exponentiations that would otherwise open the next change's chain.
            ThreadPool.UnsafeQueueUserWorkItem(
                static state =>
                {
                    state.Work.Run();
                    Interlocked.Increment(ref state.Connection._precomputationsRun);
                },
                (Work: work, Connection: this),
                preferLocal: false);
        }

        while (state.Core.Deliveries.TryDequeue(out SecureEvent? e))
        {
            if (e is SecureView)
            {
                state.KeyInstalledAt = Environment.TickCount64;
            }

            Deliver(e);
        }

        return NextSignal();
    }

    /// <summary>Queues an event for the receiver (under the lock).</summary>
    private void Deliver(SecureEvent e)
    {
        _deliveries.Enqueue(e);
        Volatile.Write(ref _waitingDeliveries, _deliveries.Count);
    }

    /// <summary>Takes the next queued event, if any (under the lock).</summary>
    private bool TryTakeDelivery([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SecureEvent? e)
    {
        bool taken = _deliveries.TryDequeue(out e);
        Volatile.Write(ref _waitingDeliveries, _deliveries.Count);
        return taken;
    }

    /// <summary>Hands a key agreement unicast from the private group to its secure group's core (under the lock).</summary>
    private TaskCompletionSource? OnPrivateKeyAgreement(FlushDataMessage unicast)
    {
        if (!PrivateKeyAgreement.TryUnwrap(unicast.Body, out string group, out ReadOnlyMemory<byte> wire)
            || !_secure.TryGetValue(group, out SecureGroupState? state) || state.Core.Left)
        {
            Interlocked.Increment(ref _droppedPrivate);
            return NextSignal();
        }

        Interlocked.Increment(ref _privateKeyAgreement);
        state.FirstKeyAgreementMessage();
        state.Core.OnKeyAgreement(unicast.Sender, wire.Span);
        return Collect(state);
    }

    /// <summary>Takes the progress signal to fire once the lock is released: null when no send is waiting for progress.</summary>
    private TaskCompletionSource? NextSignal()
    {
        _eventsHandled++;
        TaskCompletionSource? progress = _progress;
        _progress = null;
        return progress;
    }

    private void RefreshIfDue(string group)
    {
        TaskCompletionSource? progress = null;
        lock (_lock)
        {
            if (!_disposed && _secure.TryGetValue(group, out SecureGroupState? state) && state.RefreshDue && state.Core.LeadsRefresh && state.Core.RequestRefresh())
            {
                progress = Collect(state);
            }
        }

        progress?.SetResult();
    }

    /// <summary>
    /// Seals a message under <paramref name="view"/>'s key, then sends it in that view. The seal (AES-GCM, and the lock
    /// the receive loop holds while it opens) happens before the Flush gate is taken, so the gate, which the session's
    /// receive loop takes for every frame, is held only for a copy into the send batch: a receive loop that found it
    /// held went asynchronous, through the thread pool (docs/benchmarks-groups.md, ninth session).
    /// </summary>
    /// <returns>False, sending nothing, when the key or the view moved on (the sequence number taken is then skipped, which receivers allow).</returns>
    private async ValueTask<bool> TrySendSealedAsync(string group, SecureGroupState state, GroupId view, short messageType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        int length = state.Core.SealedLength(body.Length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        await _sealOrder.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ReadOnlyMemory<byte> sealedMessage = buffer.AsMemory(0, length);
            return TrySeal(state, view, messageType, body, buffer.AsSpan(0, length))
                && await _flush.TrySendInViewAsync(group, view, ServiceType.Agreed, SecureGroupCore.SealedType, length, static (m, destination) => m.Span.TryCopyTo(destination), sealedMessage, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sealOrder.Release();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Seals into <paramref name="destination"/>, only if the key of <paramref name="view"/> is still installed.</summary>
    private bool TrySeal(SecureGroupState state, GroupId view, short messageType, ReadOnlyMemory<byte> body, Span<byte> destination)
    {
        lock (_lock)
        {
            return state.Core.KeyedView == view && state.Core.TrySeal(messageType, body.Span, destination);
        }
    }

    /// <summary>Sends key agreement messages in order, off the receive path: a send held by a flush must not stop receiving.</summary>
    private async Task SendKeyAgreementAsync()
    {
        await foreach ((string group, KeyAgreementSend send) in _keyAgreementSends.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                if (send.To is string to)
                {
                    // Only the addressee needs it: the other members neither receive nor parse it.
                    await _flush.TrySendPrivateInViewAsync(group, send.View, to, ServiceType.Agreed, PrivateKeyAgreement.MessageType, PrivateKeyAgreement.Wrap(group, send.Wire), _closing.Token).ConfigureAwait(false);
                }
                else
                {
                    await _flush.MulticastAsync(ServiceType.Agreed, group, SecureGroupCore.KeyAgreementType, send.Wire, _closing.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                // Closing.
                return;
            }
            catch (SpreadException e) when (e.Error == SpreadError.IllegalGroup)
            {
                // Left that group: the key agreement of that membership is over; other groups go on.
            }
            catch (SpreadException)
            {
                // Disconnected: every group's key agreement is over.
                return;
            }
        }
    }
}
