using System.Text;
using Conclave.Client.Flush;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Flush;

/// <summary>
/// One Flush session in an end-to-end test: a receive loop that records every event, answers flush
/// requests explicitly, and pulses a shared signal so tests wait for conditions instead of sleeping.
/// </summary>
internal sealed class FlushMember : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly Pulse _pulse;
    private readonly List<ViewLog> _views = [];
    private readonly Task _loop;
    private readonly bool _autoFlushOk;

    private FlushMember(string name, FlushConnection connection, Pulse pulse, bool autoFlushOk, CancellationToken cancellationToken)
    {
        _autoFlushOk = autoFlushOk;
        Name = name;
        Connection = connection;
        _pulse = pulse;
        _loop = Task.Run(() => ReceiveLoopAsync(cancellationToken), cancellationToken);
    }

    public string Name { get; }

    public FlushConnection Connection { get; }

    public string Private => Connection.PrivateGroup;

    public bool LeftSelf { get; private set; }

    public List<FlushEvent> Events { get; } = [];

    public static async Task<FlushMember> ConnectAsync(string spreadName, string name, Pulse pulse, CancellationToken cancellationToken, FlushOptions? options = null)
    {
        FlushConnection connection = await FlushConnection.ConnectAsync(spreadName, name, options, cancellationToken);
        return new FlushMember(name, connection, pulse, options?.AutoFlushOk ?? false, cancellationToken);
    }

    /// <summary>Installed views with the messages delivered in each, oldest first (a snapshot).</summary>
    public List<ViewLog> Views
    {
        get
        {
            lock (_lock)
            {
                return [.. _views];
            }
        }
    }

    public FlushView? LastView
    {
        get
        {
            lock (_lock)
            {
                return _views.Count == 0 ? null : _views[^1].View;
            }
        }
    }

    public bool HasView(params FlushMember[] members)
    {
        FlushView? v = LastView;
        return v is not null && v.Members.Order(StringComparer.Ordinal).SequenceEqual(members.Select(m => m.Private).Order(StringComparer.Ordinal));
    }

    public Task SendAsync(ServiceType service, string text) =>
        Connection.MulticastAsync(service, FlushEndToEndTests.Group, 1, Encoding.ASCII.GetBytes(text)).AsTask();

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is SpreadException or OperationCanceledException)
        {
            // The session is gone; the loop ends with it.
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        await foreach (FlushEvent e in Connection.ReadAllAsync(cancellationToken))
        {
            lock (_lock)
            {
                Events.Add(e);
                switch (e)
                {
                    case FlushView v:
                        _views.Add(new ViewLog(v));
                        break;
                    case FlushDataMessage d:
                        Assert.NotEmpty(_views);
                        _views[^1].Delivered.Add($"{d.Sender}|{Encoding.ASCII.GetString(d.Body.Span)}");
                        break;
                    case FlushSelfLeave:
                        LeftSelf = true;
                        break;
                }
            }

            if (e is FlushRequest && !_autoFlushOk)
            {
                await Connection.FlushOkAsync(e.Group, cancellationToken);
            }

            _pulse.Fire();
        }
    }

    internal sealed class ViewLog(FlushView view)
    {
        public FlushView View { get; } = view;

        public List<string> Delivered { get; } = [];
    }
}

/// <summary>A signal that completes the current waiters on every event; waiters re-check their condition.</summary>
internal sealed class Pulse
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Fire() => Interlocked.Exchange(ref _next, new(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();

    public async Task UntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task next = Volatile.Read(ref _next).Task;
            if (condition())
            {
                return;
            }

            await next.WaitAsync(cancellationToken);
        }
    }
}
