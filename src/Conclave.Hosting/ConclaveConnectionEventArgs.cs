namespace Conclave.Hosting;

/// <summary>A <see cref="ConclaveClient"/> has a session again, and has rejoined its groups.</summary>
public sealed class ConclaveConnectedEventArgs : EventArgs
{
    internal ConclaveConnectedEventArgs(string privateGroup, IReadOnlyList<string> groups, bool isReconnection, int attempts)
    {
        PrivateGroup = privateGroup;
        Groups = groups;
        IsReconnection = isReconnection;
        Attempts = attempts;
    }

    /// <summary>Gets the new session's private group, <c>#name#daemon</c>.</summary>
    public string PrivateGroup { get; }

    /// <summary>Gets the groups joined on this session.</summary>
    public IReadOnlyList<string> Groups { get; }

    /// <summary>Gets a value indicating whether an earlier session was lost (false for the first connection).</summary>
    /// <remarks>Messages sent to the groups between the loss and now were not received: resynchronise if the application needs to.</remarks>
    public bool IsReconnection { get; }

    /// <summary>Gets the number of connection attempts this session took.</summary>
    public int Attempts { get; }
}

/// <summary>A <see cref="ConclaveClient"/> lost its session; it is reconnecting.</summary>
public sealed class ConclaveDisconnectedEventArgs : EventArgs
{
    internal ConclaveDisconnectedEventArgs(string privateGroup, Exception? error)
    {
        PrivateGroup = privateGroup;
        Error = error;
    }

    /// <summary>Gets the lost session's private group.</summary>
    public string PrivateGroup { get; }

    /// <summary>Gets why the session ended, if known.</summary>
    public Exception? Error { get; }
}
