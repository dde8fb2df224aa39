using Microsoft.Extensions.Logging;

namespace Conclave.Daemon.Internal;

/// <summary>What a session needs from the daemon that owns it.</summary>
internal interface ISessionHost
{
    DaemonOptions Options { get; }

    DaemonCounters Counters { get; }

    ILogger Logger { get; }

    /// <summary>Reserves a private name; false if another session of this daemon holds it.</summary>
    bool TryReserveName(string name, ClientSession session);

    /// <summary>Invents an unused private name (Spread: r&lt;n&gt;-&lt;fd&gt;) and reserves it.</summary>
    string ReserveGeneratedName(ClientSession session);

    /// <summary>Gives a name back.</summary>
    void ReleaseName(string name, ClientSession session);

    /// <summary>Hands work to the daemon's serialised core and returns once it is handled.</summary>
    void Post(LoopItem item);
}
