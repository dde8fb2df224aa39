using System.Threading.Channels;
using Conclave.Client.Diagnostics;
using Conclave.Client.Flush;
using Conclave.Client.Secure.Internal;
using Conclave.Crypto.KeyAgreement;
using Conclave.Protocol.Spread;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conclave.Client.Secure;

/// <summary>
/// A secure group (Secure Spread) on the Flush layer: every view gets a fresh group key by contributory key
/// agreement among exactly its members, and every message is sealed with AES-256-GCM under that key.
/// </summary>
/// <remarks>
/// <para>
/// A <see cref="SecureView"/> is delivered only once its key is established; sends wait until then and never
/// use a key of an earlier view. Data goes out AGREED so that it follows, at every member, the key agreement
/// messages that produced its key. Replays, forgeries and messages of other epochs are refused and counted in
/// <see cref="Counters"/>. Flush requests are answered automatically.
/// </para>
/// <para>Keep receiving: key agreement, like the Flush protocol under it, advances only as events are received.</para>
/// </remarks>
public sealed class SecureGroup : IAsyncDisposable
{
    private readonly FlushConnection _flush;
    private readonly SecureGroupCore _core;
    private readonly object _lock = new();
    private readonly Channel<byte[]> _keyAgreementSends = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _sendLoop;
    private TaskCompletionSource _progress = NewSignal();
    private int _receiving;

    private SecureGroup(FlushConnection flush, string group, SecureGroupCore core)
    {
        _flush = flush;
        _core = core;
        Group = group;
        _sendLoop = Task.Run(SendKeyAgreementAsync);
    }

    /// <summary>Gets the group's name.</summary>
    public string Group { get; }

    /// <summary>Gets this member's private group (its name in views and in the trust directory).</summary>
    public string PrivateGroup => _flush.PrivateGroup;

    /// <summary>Gets what the group refused so far.</summary>
    public SecureGroupCounters Counters => _core.Counters;

    /// <summary>Connects to a daemon and joins a secure group.</summary>
    /// <param name="spreadName"><c>PORT@HOST</c>, <c>PORT</c> or empty.</param>
    /// <param name="privateName">The requested session name (at most 10 bytes).</param>
    /// <param name="group">The group to join.</param>
    /// <param name="options">Key agreement protocol, DH group, identity and trusted keys.</param>
    /// <param name="cancellationToken">Cancels connecting and joining.</param>
    /// <returns>The member; its first <see cref="SecureView"/> follows once the group has a key.</returns>
    public static async ValueTask<SecureGroup> JoinAsync(string? spreadName, string privateName, string group, SecureGroupOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        FlushConnection flush = await FlushConnection.ConnectAsync(spreadName, privateName, new FlushOptions { AutoFlushOk = true }, cancellationToken).ConfigureAwait(false);
        try
        {
            IGroupKeyAgreement module = KeyAgreementFactory.Create(options.Protocol, new KeyAgreementOptions
            {
                Group = group,
                Self = flush.PrivateGroup,
                Identity = options.Identity,
                Directory = options.Directory,
                DhGroup = options.DhGroup,
            });
            ISecureGroupObserver observer = new SecureGroupTelemetry(group, options.Protocol.ToString().ToLowerInvariant(), options.MeterFactory,
                (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Conclave.Client.Secure"));
            var member = new SecureGroup(flush, group, new SecureGroupCore(module, group, flush.PrivateGroup) { Observer = observer });
            await flush.JoinAsync(group, cancellationToken).ConfigureAwait(false);
            return member;
        }
        catch
        {
            await flush.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Seals a message under the current view's key and multicasts it to the view.</summary>
    /// <param name="messageType">The application's message type (sealed with the body).</param>
    /// <param name="body">The plaintext.</param>
    /// <param name="cancellationToken">Cancels waiting for a key.</param>
    /// <returns>A task that completes when the sealed message is written.</returns>
    public async ValueTask SendAsync(short messageType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task progress;
            GroupId? keyed;
            lock (_lock)
            {
                progress = _progress.Task;
                keyed = _core.KeyedView;
            }

            if (keyed is GroupId view && await _flush.TrySendInViewAsync(Group, view, ServiceType.Agreed, SecureGroupCore.SealedType, () => Seal(view, messageType, body), cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            await progress.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Receives the next secure event.</summary>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>A <see cref="SecureView"/>, <see cref="SecureMessage"/> or <see cref="SecureLeft"/>.</returns>
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
                lock (_lock)
                {
                    if (_core.Deliveries.TryDequeue(out SecureEvent? ready))
                    {
                        return ready;
                    }
                }

                FlushEvent e = await _flush.ReceiveAsync(cancellationToken).ConfigureAwait(false);
                TaskCompletionSource progress;
                lock (_lock)
                {
                    if (string.Equals(e.Group, Group, StringComparison.Ordinal))
                    {
                        _core.Handle(e);
                    }

                    while (_core.Sends.TryDequeue(out byte[]? wire))
                    {
                        _keyAgreementSends.Writer.TryWrite(wire);
                    }

                    progress = _progress;
                    _progress = NewSignal();
                }

                progress.SetResult();
            }
        }
        finally
        {
            Volatile.Write(ref _receiving, 0);
        }
    }

    /// <summary>Leaves the group; a <see cref="SecureLeft"/> follows.</summary>
    /// <param name="cancellationToken">Cancels waiting to send.</param>
    /// <returns>A task that completes when the request is written.</returns>
    public ValueTask LeaveAsync(CancellationToken cancellationToken = default) => _flush.LeaveAsync(Group, cancellationToken);

    /// <summary>Disconnects and erases the keys.</summary>
    /// <returns>A task that completes when the session is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        _keyAgreementSends.Writer.TryComplete();
        await _flush.DisposeAsync().ConfigureAwait(false);
        await _sendLoop.ConfigureAwait(false);
        lock (_lock)
        {
            _core.Dispose();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private byte[]? Seal(GroupId view, short messageType, ReadOnlyMemory<byte> body)
    {
        lock (_lock)
        {
            return _core.KeyedView == view ? _core.Seal(messageType, body.Span) : null;
        }
    }

    /// <summary>Sends key agreement messages in order, off the receive path: a send held by a flush must not stop receiving.</summary>
    private async Task SendKeyAgreementAsync()
    {
        try
        {
            await foreach (byte[] wire in _keyAgreementSends.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                await _flush.MulticastAsync(ServiceType.Agreed, Group, SecureGroupCore.KeyAgreementType, wire).ConfigureAwait(false);
            }
        }
        catch (SpreadException)
        {
            // Left or disconnected: the key agreement of this membership is over.
        }
    }
}
