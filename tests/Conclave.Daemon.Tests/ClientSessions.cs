using Conclave.Client;

namespace Conclave.Daemon.Tests;

/// <summary>Helpers for tests that drive the daemon through the client library.</summary>
internal static class ClientSessions
{
    /// <summary>Upper bound for one expected event; a failure guard, not a synchronisation.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The handshake timeout of the tests' in-process daemons (the default is 1 s per phase): on a starved CI
    /// machine a client's handshake can take longer, and the daemon would refuse it. Tests of the timeout set their own.
    /// </summary>
    public static readonly TimeSpan HandshakePatience = TimeSpan.FromMinutes(1);

    /// <summary>The same for a `conclave daemon` process the tests start.</summary>
    public static readonly string[] HandshakeArguments = ["--handshake-timeout", "60"];

    public static ValueTask<GroupConnection> ConnectAsync(this TestDaemon daemon, string name, bool membership = true) =>
        GroupConnection.ConnectAsync($"{daemon.Endpoint.Port}@127.0.0.1", name, membership);

    public static async Task<T> NextAsync<T>(this GroupConnection connection)
        where T : SpreadMessage
    {
        using var timeout = new CancellationTokenSource(Patience);
        SpreadMessage message;
        try
        {
            message = await connection.ReceiveAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"{connection.PrivateGroup} waited {Patience.TotalSeconds} s for a {typeof(T).Name}; nothing came");
        }

        return Assert.IsType<T>(message);
    }

    /// <summary>Joins and consumes the session's own join view.</summary>
    public static async Task<MembershipMessage> JoinAndWaitAsync(this GroupConnection connection, string group)
    {
        await connection.JoinAsync(group);
        while (true)
        {
            MembershipMessage view = await connection.NextAsync<MembershipMessage>();
            if (view.Group == group && view.ChangedMember == connection.PrivateGroup)
            {
                return view;
            }
        }
    }
}
