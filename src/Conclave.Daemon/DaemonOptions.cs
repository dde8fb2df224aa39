using System.Diagnostics.Metrics;
using System.Net;
using Conclave.Protocol.Spread;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conclave.Daemon;

/// <summary>How a <see cref="SpreadDaemon"/> listens and the limits it enforces.</summary>
public sealed record DaemonOptions
{
    /// <summary>This daemon's name: the suffix of every private group (<c>#user#name</c>), at most 19 characters.</summary>
    public string Name { get; init; } = "localhost";

    /// <summary>Every daemon's name in configuration order (this one included); orders members in views.</summary>
    public IReadOnlyList<string> ConfigurationOrder { get; init; } = [];

    /// <summary>TCP endpoints for clients. Port 0 binds an ephemeral port (see <see cref="SpreadDaemon.TcpEndpoints"/>).</summary>
    public IReadOnlyList<IPEndPoint> TcpEndpoints { get; init; } = [new IPEndPoint(IPAddress.Loopback, SpreadLimits.DefaultPort)];

    /// <summary>Path of the Unix-domain socket for clients (Spread: <c>/tmp/PORT</c>); null for none.</summary>
    public string? UnixSocketPath { get; init; } = $"/tmp/{SpreadLimits.DefaultPort}";

    /// <summary>An owner-only Unix socket serving the daemon's status (`conclave monitor`); null for none.</summary>
    public string? StatusSocketPath { get; init; }

    /// <summary>The address that identifies this daemon in group ids (Spread: its IPv4 address).</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>Most concurrent sessions; further connections get REJECT_QUOTA.</summary>
    public int MaxSessions { get; init; } = 16_384;

    /// <summary>Messages queued for a session that is not reading before it is disconnected (Spread: 1,000).</summary>
    public int MaxSessionMessages { get; init; } = SpreadLimits.DefaultMaxSessionMessages;

    /// <summary>Most members one group may have at this daemon; a join beyond it gets a reject message.</summary>
    public int MaxLocalGroupMembers { get; init; } = 10_000;

    /// <summary>
    /// Time a client has for each handshake phase: the connect request, then the authentication
    /// choice (Spread waits 1 s for the connect request).
    /// </summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The ring of daemons this one belongs to; null for a daemon alone.</summary>
    public DaemonRingOptions? Ring { get; init; }

    /// <summary>Where the daemon logs.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Creates the daemon's meter (<c>Conclave.Daemon</c>, docs/operations.md); null: the daemon owns a meter of its own.</summary>
    public IMeterFactory? MeterFactory { get; init; }

    /// <summary>Throws if the options cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(Name) || Name.Length > SpreadLimits.MaxDaemonNameLength || !NameField.IsLegalGroupName(Name))
        {
            throw new ArgumentException($"Daemon name '{Name}' must be 1..{SpreadLimits.MaxDaemonNameLength} characters from '$'..'~'.");
        }

        if (ConfigurationOrder.Count > 0 && !ConfigurationOrder.Contains(Name, StringComparer.Ordinal))
        {
            throw new ArgumentException($"Daemon name '{Name}' is not in the configuration ({string.Join(", ", ConfigurationOrder)}).");
        }

        if (Ring is not null)
        {
            Ring.Validate();
            if (Ring.Endpoints.Count != ConfigurationOrder.Count)
            {
                throw new ArgumentException("The ring needs one endpoint per daemon of the configuration.");
            }
        }

        if (TcpEndpoints.Count == 0 && UnixSocketPath is null)
        {
            throw new ArgumentException("The daemon needs at least one TCP endpoint or a Unix socket.");
        }

        if (MaxSessions < 1 || MaxSessionMessages < 1 || MaxLocalGroupMembers < 1)
        {
            throw new ArgumentException("MaxSessions, MaxSessionMessages and MaxLocalGroupMembers must be positive.");
        }
    }
}
