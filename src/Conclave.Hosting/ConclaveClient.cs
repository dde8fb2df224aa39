using System.Threading.Channels;
using Conclave.Client;
using Conclave.Hosting.Internal;
using Conclave.Protocol.Spread;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conclave.Hosting;

/// <summary>
/// A Spread session that outlives its daemon: when the session is lost (the daemon restarted, the
/// network failed) it reconnects with a growing delay and rejoins every group it was in, and tells the
/// application through <see cref="Connected"/> and <see cref="Disconnected"/>.
/// </summary>
/// <remarks>
/// <para>
/// Received messages of every session form one stream (<see cref="ReceiveAsync"/>, <see cref="ReadAllAsync"/>);
/// a reconnection shows in it as the new session's membership messages for the rejoined groups.
/// Messages sent while no session existed are not received: Spread's guarantees hold within one session.
/// </para>
/// <para>
/// Sends wait for a session. A send under way when the session is lost fails with a
/// <see cref="SpreadException"/> (<see cref="SpreadError.ConnectionClosed"/>); it may or may not have been delivered.
/// Event handlers run on the client's connection loop: keep them short.
/// </para>
/// </remarks>
public sealed class ConclaveClient : IAsyncDisposable
{
    private readonly ConclaveClientOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<SpreadMessage> _received;
    private readonly HashSet<string> _groups = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private GroupConnection? _connection;
    private TaskCompletionSource<GroupConnection> _ready = NewReady();
    private Task? _loop;

    /// <summary>Creates a client; call <see cref="StartAsync"/> to connect (a hosted client is started by the host).</summary>
    /// <param name="options">Where and how to connect.</param>
    /// <param name="logger">Where connection changes are logged; null for nowhere.</param>
    /// <param name="timeProvider">The clock for reconnection delays; null for the system clock.</param>
    public ConclaveClient(ConclaveClientOptions options, ILogger<ConclaveClient>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _received = Channel.CreateBounded<SpreadMessage>(new BoundedChannelOptions(options.ReceiveBuffer)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        foreach (string group in options.Groups)
        {
            _groups.Add(group);
        }
    }

    /// <summary>Raised when a session is established and its groups rejoined: the first time and after every loss.</summary>
    public event EventHandler<ConclaveConnectedEventArgs>? Connected;

    /// <summary>Raised when the session is lost; reconnection attempts follow.</summary>
    public event EventHandler<ConclaveDisconnectedEventArgs>? Disconnected;

    /// <summary>Gets the current session's private group, or null while disconnected.</summary>
    public string? PrivateGroup
    {
        get
        {
            lock (_lock)
            {
                return _connection?.PrivateGroup;
            }
        }
    }

    /// <summary>Gets the groups the client is in (and rejoins after a reconnection).</summary>
    public IReadOnlyList<string> Groups
    {
        get
        {
            lock (_lock)
            {
                return [.. _groups];
            }
        }
    }

    /// <summary>Starts the connection loop; returns at once (see <see cref="WaitForConnectionAsync"/>).</summary>
    /// <param name="cancellationToken">Unused: the loop runs until the client is stopped or disposed.</param>
    /// <returns>A completed task.</returns>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            _loop ??= Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    /// <summary>Waits until a session is established and its groups rejoined.</summary>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>A task that completes when the client is connected.</returns>
    public async ValueTask WaitForConnectionAsync(CancellationToken cancellationToken = default) => await ReadyAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Joins a group now if connected, and on every later session.</summary>
    /// <param name="group">The group: 1..31 characters from '$'..'~'.</param>
    /// <param name="cancellationToken">Cancels waiting to send.</param>
    /// <returns>A task that completes when the request is written, or at once while disconnected.</returns>
    public async ValueTask JoinAsync(string group, CancellationToken cancellationToken = default)
    {
        if (!NameField.IsLegalGroupName(group))
        {
            throw new SpreadException(SpreadError.IllegalGroup, $"'{group}' is not a legal group name: 1..31 characters from '$'..'~'.");
        }

        GroupConnection? connection;
        lock (_lock)
        {
            if (!_groups.Add(group))
            {
                return;
            }

            connection = _connection;
        }

        await SendIgnoringLossAsync(connection, c => c.JoinAsync(group, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Leaves a group now if connected, and stops rejoining it.</summary>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Cancels waiting to send.</param>
    /// <returns>A task that completes when the request is written, or at once while disconnected.</returns>
    public async ValueTask LeaveAsync(string group, CancellationToken cancellationToken = default)
    {
        GroupConnection? connection;
        lock (_lock)
        {
            if (!_groups.Remove(group))
            {
                return;
            }

            connection = _connection;
        }

        await SendIgnoringLossAsync(connection, c => c.LeaveAsync(group, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Multicasts a message to a group (or unicasts it to a private group), waiting for a session if there is none.</summary>
    /// <param name="service">One data service, optionally with <see cref="ServiceType.SelfDiscard"/>.</param>
    /// <param name="group">The destination group or private group.</param>
    /// <param name="messageType">The application's 16-bit message type.</param>
    /// <param name="body">The body.</param>
    /// <param name="cancellationToken">Cancels waiting for a session or to send.</param>
    /// <returns>A task that completes when the message is written.</returns>
    /// <exception cref="SpreadException">The message is illegal, or the session was lost while sending.</exception>
    public async ValueTask MulticastAsync(ServiceType service, string group, short messageType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        GroupConnection connection = await ReadyAsync(cancellationToken).ConfigureAwait(false);
        await connection.MulticastAsync(service, group, messageType, body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Receives the next message of any session, in order.</summary>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The next message.</returns>
    /// <exception cref="ChannelClosedException">The client was stopped.</exception>
    public ValueTask<SpreadMessage> ReceiveAsync(CancellationToken cancellationToken = default) => _received.Reader.ReadAsync(cancellationToken);

    /// <summary>Enumerates received messages across reconnections until the client is stopped.</summary>
    /// <param name="cancellationToken">Ends the enumeration with <see cref="OperationCanceledException"/>.</param>
    /// <returns>The messages, in the order the daemons delivered them.</returns>
    public IAsyncEnumerable<SpreadMessage> ReadAllAsync(CancellationToken cancellationToken = default) => _received.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Stops reconnecting and disconnects the current session, if any.</summary>
    /// <param name="cancellationToken">Unused: stopping waits at most the session's 5-second goodbye.</param>
    /// <returns>A task that completes when the loop has ended.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        Task? loop;
        lock (_lock)
        {
            if (!_stop.IsCancellationRequested)
            {
                _stop.Cancel();
            }

            loop = _loop;
        }

        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }

        _received.Writer.TryComplete();
    }

    /// <summary>Stops the client (as <see cref="StopAsync"/>).</summary>
    /// <returns>A task that completes when the client is stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stop.Dispose();
    }

    private static TaskCompletionSource<GroupConnection> NewReady() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task<GroupConnection> ReadyAsync(CancellationToken cancellationToken)
    {
        Task<GroupConnection> ready;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            ready = _ready.Task;
        }

        return await ready.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A join or leave on a session that is being lost needs no error: the next session applies the group set.</summary>
    private static async ValueTask SendIgnoringLossAsync(GroupConnection? connection, Func<GroupConnection, ValueTask> send)
    {
        if (connection is null)
        {
            return;
        }

        try
        {
            await send(connection).ConfigureAwait(false);
        }
        catch (SpreadException e) when (e.Error == SpreadError.ConnectionClosed)
        {
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        TimeSpan delay = _options.ReconnectDelay;
        int attempts = 0;
        bool connectedBefore = false;
        while (!stop.IsCancellationRequested)
        {
            attempts++;
            GroupConnection? connection = null;
            List<string> groups;
            try
            {
                connection = await GroupConnection.ConnectAsync(_options.Daemon, _options.PrivateName, _options.ReceiveMemberships, stop).ConfigureAwait(false);
                lock (_lock)
                {
                    // From here on JoinAsync/LeaveAsync send on this session themselves; the snapshot covers the rest.
                    _connection = connection;
                    groups = [.. _groups];
                }

                foreach (string group in groups)
                {
                    await connection.JoinAsync(group, stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                connection?.Abort();
                break;
            }
            catch (SpreadException e)
            {
                connection?.Abort();
                Detach();
                HostingLog.AttemptFailed(_logger, _options.Daemon, attempts, e.Message, delay);
                if (!await DelayAsync(delay, stop).ConfigureAwait(false))
                {
                    break;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
                continue;
            }

            lock (_lock)
            {
                _ready.TrySetResult(connection);
            }

            HostingLog.Connected(_logger, _options.Daemon, connection.PrivateGroup, groups.Count, connectedBefore);
            Raise(Connected, new ConclaveConnectedEventArgs(connection.PrivateGroup, groups, connectedBefore, attempts));
            connectedBefore = true;
            attempts = 0;
            delay = _options.ReconnectDelay;

            Exception? lost = await PumpAsync(connection, stop).ConfigureAwait(false);
            Detach();
            if (stop.IsCancellationRequested)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                break;
            }

            connection.Abort();
            HostingLog.Lost(_logger, connection.PrivateGroup, _options.Daemon, lost?.Message ?? "closed");
            Raise(Disconnected, new ConclaveDisconnectedEventArgs(connection.PrivateGroup, lost));
        }

        Detach();
    }

    /// <summary>Forgets the current session: sends wait for the next one.</summary>
    private void Detach()
    {
        lock (_lock)
        {
            _connection = null;
            if (_ready.Task.IsCompleted)
            {
                _ready = NewReady();
            }
        }
    }

    /// <summary>Moves the session's messages into the client's stream until the session ends; returns why it ended.</summary>
    private async Task<Exception?> PumpAsync(GroupConnection connection, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                SpreadMessage message = await connection.ReceiveAsync(stop).ConfigureAwait(false);
                await _received.Writer.WriteAsync(message, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return null;
        }
        catch (SpreadException e)
        {
            return e;
        }
    }

    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, _time, stop).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Raise<T>(EventHandler<T>? handler, T args)
    {
        try
        {
            handler?.Invoke(this, args);
        }
        catch (Exception e)
        {
            HostingLog.HandlerFailed(_logger, e);
        }
    }
}
