using System.Buffers.Binary;
using Conclave.Client;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>
/// A group member under load: one task multicasts numbered AGREED messages to the group (at most
/// <see cref="Window"/> of its own not yet delivered back), another records everything it is
/// delivered — data as "sender:number", memberships as one line — so runs can be compared.
/// </summary>
internal sealed class LoadedMember : IAsyncDisposable
{
    private const int Window = 16;
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(4);
    private readonly GroupConnection _connection;
    private readonly string _group;
    private readonly List<Entry> _log = [];
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _receiver = Task.CompletedTask;
    private Task _sender = Task.CompletedTask;
    private int _sent;
    private int _ownDelivered;
    private Exception? _failure;

    private LoadedMember(GroupConnection connection, string group)
    {
        _connection = connection;
        _group = group;
    }

    /// <summary>This member's private group name.</summary>
    public string Name => _connection.PrivateGroup;

    /// <summary>Messages this member has multicast.</summary>
    public int Sent => Volatile.Read(ref _sent);

    /// <summary>Connects, joins <paramref name="group"/> and starts recording (not yet sending).</summary>
    public static async Task<LoadedMember> JoinAsync(string spreadName, string user, string group)
    {
        GroupConnection connection = await GroupConnection.ConnectAsync(spreadName, user, true);
        var member = new LoadedMember(connection, group);
        member._receiver = Task.Run(member.ReceiveAsync);
        await connection.JoinAsync(group);
        return member;
    }

    /// <summary>Starts the continuous load.</summary>
    public void StartSending() => _sender = Task.Run(SendAsync);

    /// <summary>Stops sending and waits until every own message came back.</summary>
    public async Task StopSendingAsync()
    {
        await _stop.CancelAsync();
        await _sender;
        await WaitUntilAsync(_ => Volatile.Read(ref _ownDelivered) == Sent, "all own messages delivered");
    }

    /// <summary>A copy of what has been delivered so far.</summary>
    public List<Entry> Snapshot()
    {
        lock (_log)
        {
            return [.. _log];
        }
    }

    /// <summary>Waits (generously) until <paramref name="condition"/> holds on the delivered log.</summary>
    public async Task WaitUntilAsync(Func<IReadOnlyList<Entry>, bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        while (true)
        {
            Task changed;
            lock (_log)
            {
                if (_failure is not null)
                {
                    throw new InvalidOperationException($"{Name} stopped receiving", _failure);
                }

                if (condition(_log))
                {
                    return;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{Name}: no '{what}' within {ClientSessions.Patience}; last: {string.Join(" | ", Snapshot().TakeLast(6))}");
            }
        }
    }

    private async Task SendAsync()
    {
        using var pace = new PeriodicTimer(Pace);
        byte[] body = new byte[100];
        try
        {
            while (await pace.WaitForNextTickAsync(_stop.Token))
            {
                while (Sent - Volatile.Read(ref _ownDelivered) < Window && !_stop.IsCancellationRequested)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(body, Sent);
                    await _connection.MulticastAsync(ServiceType.Agreed, _group, 1, body);
                    Interlocked.Increment(ref _sent);
                    if (Sent % 4 == 0)
                    {
                        break; // At most four per tick: a steady load, not a flood.
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ReceiveAsync()
    {
        try
        {
            while (true)
            {
                SpreadMessage message = await _connection.ReceiveAsync();
                Entry? entry = message switch
                {
                    DataMessage data => Entry.Data(data.Sender, BinaryPrimitives.ReadInt32LittleEndian(data.Body.Span)),
                    TransitionalMembershipMessage => Entry.Transitional(),
                    MembershipMessage view => Entry.View(view),
                    _ => null,
                };
                if (entry is null)
                {
                    continue;
                }

                if (entry.Sender == Name)
                {
                    Interlocked.Increment(ref _ownDelivered);
                }

                Record(entry);
            }
        }
        catch (Exception ex) when (ex is SpreadException or ObjectDisposedException or System.Net.Sockets.SocketException or IOException)
        {
            lock (_log)
            {
                _failure = ex;
            }

            Signal();
        }
    }

    private void Record(Entry entry)
    {
        lock (_log)
        {
            _log.Add(entry);
        }

        Signal();
    }

    private void Signal()
    {
        TaskCompletionSource changed;
        lock (_log)
        {
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.SetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sender;
        await _connection.DisposeAsync();
        await _receiver.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    /// <summary>One delivery: a data message (sender, number) or a membership (kind, members, cause, vs-set).</summary>
    internal sealed record Entry(string Kind, string? Sender, int Number, string Members, string Detail, string ViewId = "")
    {
        public static Entry Data(string sender, int number) => new("data", sender, number, "", "");

        public static Entry Transitional() => new("trans", null, -1, "", "");

        public static Entry View(MembershipMessage view) =>
            new("view", null, -1, string.Join(",", view.Members), $"{view.Cause} vs={string.Join(",", view.LocalVsSet)}", view.GroupId.ToString());

        public bool IsView => Kind == "view";

        public bool IsNetworkView(string members) => IsView && Members == members && Detail.StartsWith(nameof(MembershipCause.Network) + " ", StringComparison.Ordinal);

        public override string ToString() => Kind switch
        {
            "data" => $"{Sender}:{Number}",
            "trans" => "TRANS",
            _ => $"VIEW[{Members}] {Detail}",
        };
    }
}
