using System.Text;
using Conclave.Client;
using Conclave.Client.Secure;

namespace Conclave.Cli.Commands;

/// <summary>One secure member of `conclave demo`: a receive loop that keeps the last secure view and signals every event.</summary>
internal sealed class DemoMember : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly Action _changed;
    private readonly Task _loop;
    private SecureView? _view;

    private DemoMember(string name, string daemon, SecureConnection connection, Action changed)
    {
        Name = name;
        Daemon = daemon;
        Connection = connection;
        _changed = changed;
        _loop = Task.Run(LoopAsync);
    }

    public string Name { get; }

    public string Daemon { get; }

    public SecureConnection Connection { get; }

    public List<string> Received { get; } = [];

    public bool Closed { get; private set; }

    public SecureView? View
    {
        get
        {
            lock (_lock)
            {
                return _view;
            }
        }
    }

    public static async Task<DemoMember> JoinAsync(string spreadName, string name, string daemon, string group, SecureGroupOptions options, Action changed, CancellationToken cancellationToken)
    {
        SecureConnection connection = await SecureConnection.ConnectAsync(spreadName, name, cancellationToken);
        var member = new DemoMember(name, daemon, connection, changed);
        await connection.JoinAsync(group, options, cancellationToken);
        return member;
    }

    public string Fingerprint => View is SecureView v ? Convert.ToHexString([.. v.KeyFingerprint]).ToLowerInvariant() : "-";

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task LoopAsync()
    {
        try
        {
            while (true)
            {
                SecureEvent e = await Connection.ReceiveAsync();
                lock (_lock)
                {
                    switch (e)
                    {
                        case SecureView v:
                            _view = v;
                            break;
                        case SecureMessage m:
                            Received.Add(Encoding.UTF8.GetString(m.Body.Span));
                            break;
                    }
                }

                _changed();
            }
        }
        catch (SpreadException)
        {
            Closed = true;
            _changed();
        }
    }
}
