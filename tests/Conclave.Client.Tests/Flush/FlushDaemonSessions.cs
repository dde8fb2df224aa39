using Conclave.Client.Flush;
using Conclave.Client.Tests.EndToEnd;

namespace Conclave.Client.Tests.Flush;

/// <summary>What the Flush tests against the in-process daemon share: the daemon, the members they connected (closed at the end), a hang guard and a pulse to wait on.</summary>
public abstract class FlushDaemonSessions : IAsyncLifetime
{
    private readonly CancellationTokenSource _hangGuard = new(TimeSpan.FromMinutes(2));
    private readonly Pulse _pulse = new();
    private readonly List<FlushMember> _members = [];
    private InProcessDaemon _daemon = null!;

    /// <summary>Gets the token that cancels a test still running after two minutes.</summary>
    protected CancellationToken Token => _hangGuard.Token;

    /// <summary>Gets the members connected so far.</summary>
    private protected IReadOnlyList<FlushMember> Members => _members;

    /// <summary>Gets the in-process daemon.</summary>
    private protected InProcessDaemon Daemon => _daemon;

    public Task InitializeAsync()
    {
        _daemon = InProcessDaemon.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (FlushMember m in _members)
        {
            await m.DisposeAsync();
        }

        await _daemon.DisposeAsync();
        _hangGuard.Dispose();
    }

    /// <summary>Connects a member (not joined to any group yet); it is closed when the test ends.</summary>
    private protected async Task<FlushMember> ConnectAsync(string name, FlushOptions? options)
    {
        FlushMember m = await FlushMember.ConnectAsync(_daemon.TcpSpreadName, name, _pulse, Token, options);
        _members.Add(m);
        return m;
    }

    /// <summary>Waits until <paramref name="condition"/> holds, re-checked whenever a member receives something.</summary>
    protected Task UntilAsync(Func<bool> condition) => _pulse.UntilAsync(condition, Token);
}
