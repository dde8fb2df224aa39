using Conclave.Client;
using Conclave.Client.Flush;
using Conclave.Client.Secure;
using Conclave.Crypto;
using Conclave.Protocol.Spread;

namespace Conclave.Cli.Commands.Groups;

/// <summary>
/// One member of a measured group, in one of the bench's modes (plain Spread group, Flush layer, secure group):
/// connects, joins, keeps receiving in the background and records its views and data messages.
/// </summary>
internal abstract class BenchMember : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _receiving = Task.CompletedTask;
    private long _received;

    protected BenchMember(string privateGroup, KeyingLog? keying = null)
    {
        PrivateGroup = privateGroup;
        Keying = keying ?? new KeyingLog();
    }

    /// <summary>The member's name in views (<c>#name#daemon</c>).</summary>
    public string PrivateGroup { get; }

    public ViewTracker Views { get; } = new();

    /// <summary>When the member's Flush and secure layers reached each milestone of a change (empty for plain members).</summary>
    public KeyingLog Keying { get; }

    /// <summary>The member's key agreement operation counts (secure members), or null.</summary>
    public OperationCounter? Operations { get; protected init; }

    /// <summary>Data messages of the measured type received so far.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Called after each data message received (throughput pacing).</summary>
    public Action? OnData { get; set; }

    /// <summary>What the session's Flush layer received but did not deliver (empty for a plain member): a stall's report shows it.</summary>
    public virtual string Dropped => "";

    /// <summary>The message type of measured data.</summary>
    public const short DataType = 7;

    public static async Task<BenchMember> JoinAsync(BenchMode mode, string spreadName, string name, string daemon, string group, SecureGroupOptions? secure, CancellationToken cancellationToken)
    {
        BenchMember member = mode.Kind switch
        {
            BenchModeKind.Plain => await PlainMember.JoinAsync(spreadName, name, group, cancellationToken),
            BenchModeKind.Flush => await FlushMember.JoinAsync(spreadName, name, group, cancellationToken),
            _ => await SecureMember.JoinAsync(spreadName, name, group, secure!, cancellationToken),
        };
        if (member.PrivateGroup != $"#{name}#{daemon}")
        {
            await member.DisposeAsync();
            throw new InvalidOperationException($"unexpected private group {member.PrivateGroup} for {name} at {daemon}");
        }

        member._receiving = Task.Run(() => member.ReceiveLoopAsync(member._stop.Token), CancellationToken.None);
        return member;
    }

    public abstract ValueTask LeaveAsync(CancellationToken cancellationToken);

    /// <summary>Multicasts one measured data message (AGREED).</summary>
    public abstract ValueTask SendAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await CloseAsync();
        try
        {
            await _receiving;
        }
        catch (Exception e) when (e is OperationCanceledException or SpreadException)
        {
            // The session ended: that is how the loop stops.
        }

        _stop.Dispose();
    }

    protected abstract Task ReceiveLoopAsync(CancellationToken cancellationToken);

    protected abstract ValueTask CloseAsync();

    protected void CountData()
    {
        Interlocked.Increment(ref _received);
        OnData?.Invoke();
    }

    /// <summary>Runs a receive loop; a closed session fails the view waiters instead of leaving them hanging.</summary>
    protected async Task GuardAsync(Func<Task> loop)
    {
        try
        {
            await loop();
        }
        catch (Exception e)
        {
            Views.Closed(e);
            throw;
        }
    }

    private sealed class PlainMember(GroupConnection connection, string group) : BenchMember(connection.PrivateGroup)
    {
        public static async Task<BenchMember> JoinAsync(string spreadName, string name, string group, CancellationToken cancellationToken)
        {
            GroupConnection connection = await GroupConnection.ConnectAsync(spreadName, name, groupMembership: true, cancellationToken);
            await connection.JoinAsync(group, cancellationToken);
            return new PlainMember(connection, group);
        }

        public override ValueTask LeaveAsync(CancellationToken cancellationToken) => connection.LeaveAsync(group, cancellationToken);

        public override ValueTask SendAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
            connection.MulticastAsync(ServiceType.Agreed, group, DataType, body, cancellationToken);

        protected override Task ReceiveLoopAsync(CancellationToken cancellationToken) => GuardAsync(async () =>
        {
            while (true)
            {
                switch (await connection.ReceiveAsync(cancellationToken))
                {
                    case MembershipMessage view when view.Group == group:
                        Views.Installed(view.Members);
                        break;
                    case DataMessage { MessageType: DataType }:
                        CountData();
                        break;
                }
            }
        });

        protected override ValueTask CloseAsync() => connection.DisposeAsync();
    }

    private sealed class FlushMember(FlushConnection connection, string group, KeyingLog keying) : BenchMember(connection.PrivateGroup, keying)
    {
        public static async Task<BenchMember> JoinAsync(string spreadName, string name, string group, CancellationToken cancellationToken)
        {
            var keying = new KeyingLog();
            FlushConnection connection = await FlushConnection.ConnectAsync(spreadName, name, new FlushOptions { AutoFlushOk = true, LoggerFactory = keying }, cancellationToken);
            await connection.JoinAsync(group, cancellationToken);
            return new FlushMember(connection, group, keying);
        }

        public override string Dropped => $", dropped: {connection.Drops}";

        public override ValueTask LeaveAsync(CancellationToken cancellationToken) => connection.LeaveAsync(group, cancellationToken);

        public override ValueTask SendAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
            connection.MulticastAsync(ServiceType.Agreed, group, DataType, body, cancellationToken);

        protected override Task ReceiveLoopAsync(CancellationToken cancellationToken) => GuardAsync(async () =>
        {
            while (true)
            {
                switch (await connection.ReceiveAsync(cancellationToken))
                {
                    case FlushView view when view.Group == group:
                        Views.Installed(view.Members);
                        break;
                    case FlushDataMessage { MessageType: DataType }:
                        CountData();
                        break;
                    case FlushSelfLeave:
                        return;
                }
            }
        });

        protected override ValueTask CloseAsync() => connection.DisposeAsync();
    }

    private sealed class SecureMember(SecureGroup secure, KeyingLog keying) : BenchMember(secure.PrivateGroup, keying)
    {
        public static async Task<BenchMember> JoinAsync(string spreadName, string name, string group, SecureGroupOptions options, CancellationToken cancellationToken)
        {
            var keying = new KeyingLog();
            var operations = new OperationCounter();
            // Default options, as the plain member's ReceiveAsync: every message's body is the application's own array.
            // (PooledMessageBodies would spare the secure side an allocation the plain side still pays.)
            SecureGroup secure = await SecureGroup.JoinAsync(spreadName, name, group, options with { LoggerFactory = keying, Counter = operations }, cancellationToken);
            return new SecureMember(secure, keying) { Operations = operations };
        }

        public override string Dropped => $", dropped: {secure.FlushDrops}; refused: forged {secure.Counters.Forged}, other epoch {secure.Counters.OtherEpoch}, replays {secure.Counters.Replays}";

        public override ValueTask LeaveAsync(CancellationToken cancellationToken) => secure.LeaveAsync(cancellationToken);

        public override ValueTask SendAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
            secure.SendAsync(DataType, body, cancellationToken);

        protected override Task ReceiveLoopAsync(CancellationToken cancellationToken) => GuardAsync(async () =>
        {
            while (true)
            {
                switch (await secure.ReceiveAsync(cancellationToken))
                {
                    case SecureView view:
                        Views.Installed(view.Members);
                        break;
                    case SecureMessage message:
                        if (message.MessageType == DataType)
                        {
                            CountData();
                        }

                        message.Dispose();
                        break;
                    case SecureLeft:
                        return;
                }
            }
        });

        protected override ValueTask CloseAsync() => secure.DisposeAsync();
    }
}
