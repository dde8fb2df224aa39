namespace Conclave.Hosting;

/// <summary>
/// How a hosted Conclave daemon runs, bound from configuration (by default the <c>Conclave:Daemon</c> section).
/// </summary>
/// <remarks>
/// The same choices as <c>conclave daemon</c>'s options. Without <see cref="ConfigFile"/> the daemon runs
/// alone as <c>localhost</c> on 127.0.0.1; with a spread.conf of several daemons it joins their ring.
/// The options are checked when the host starts: a bad value stops the host with an
/// <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> that names it.
/// </remarks>
public sealed class ConclaveDaemonOptions
{
    /// <summary>The configuration section the options are bound from by default.</summary>
    public const string SectionName = "Conclave:Daemon";

    /// <summary>Gets or sets the path of a spread.conf file (Spread 4.4 format); null for one daemon on 127.0.0.1.</summary>
    public string? ConfigFile { get; set; }

    /// <summary>Gets or sets this daemon's name in the configuration; needed when the host runs several of its daemons.</summary>
    public string? Name { get; set; }

    /// <summary>Gets or sets the client port (TCP, and the Unix socket <c>/tmp/PORT</c>); null for the segment's port, 0 for an ephemeral TCP port.</summary>
    public int? Port { get; set; }

    /// <summary>Gets or sets the IP addresses to accept clients on; empty for the daemon's client interfaces.</summary>
    public IList<string> Listen { get; set; } = [];

    /// <summary>Gets or sets a value indicating whether the daemon also listens on the Unix socket <c>/tmp/PORT</c>.</summary>
    public bool UnixSocket { get; set; } = true;

    /// <summary>Gets or sets the most concurrent client sessions.</summary>
    public int MaxSessions { get; set; } = 16_384;

    /// <summary>Gets or sets where the ring's sequence and incarnation are kept; null for a directory per daemon name under the temp directory.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>Gets or sets an owner-only Unix socket serving the daemon's status to <c>conclave monitor</c>; null for none.</summary>
    public string? StatusSocket { get; set; }

    /// <summary>Gets or sets the time a client has for each handshake phase (Spread: 1 second).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(1);
}
