using System.Globalization;
using System.Net;
using Conclave.Daemon;
using Conclave.Daemon.Configuration;
using Microsoft.Extensions.Logging;

namespace Conclave.Hosting.Internal;

/// <summary>Turns bound <see cref="ConclaveDaemonOptions"/> into the daemon's own <see cref="DaemonOptions"/>, as <c>conclave daemon</c> does.</summary>
internal static class DaemonOptionsFactory
{
    /// <summary>Builds and validates the daemon's options.</summary>
    /// <exception cref="ArgumentException">A value cannot work.</exception>
    /// <exception cref="SpreadConfigurationException">The spread.conf file is missing or malformed.</exception>
    /// <exception cref="Conclave.Daemon.Network.ClusterKeyException">The cluster key file is missing, exposed or weak.</exception>
    public static DaemonOptions Build(ConclaveDaemonOptions hosted, ILoggerFactory loggers)
    {
        if (hosted.Port is < 0 or > 65535)
        {
            throw new ArgumentException($"Port {hosted.Port} is not a TCP port (0..65535).");
        }

        if (hosted.MaxSessions < 1)
        {
            throw new ArgumentException("MaxSessions must be positive.");
        }

        if (hosted.HandshakeTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("HandshakeTimeout must be positive.");
        }

        SpreadConfiguration configuration = hosted.ConfigFile is { Length: > 0 } file
            ? SpreadConfigurationParser.ParseFile(file)
            : SpreadConfiguration.Default;
        DaemonEntry self = SelectSelf(configuration, hosted.Name);
        int port = hosted.Port ?? configuration.SegmentOf(self).Port;
        IEnumerable<IPAddress> addresses = hosted.Listen.Count > 0 ? hosted.Listen.Select(ParseAddress) : self.ClientAddresses;

        // /tmp/0 would be a different socket for every ephemeral port, so port 0 means TCP only.
        bool unix = hosted.UnixSocket && port != 0;
        var options = new DaemonOptions
        {
            Name = self.Name,
            ConfigurationOrder = [.. configuration.Daemons.Select(d => d.Name)],
            Address = self.Address,
            TcpEndpoints = [.. addresses.Select(a => new IPEndPoint(a, port))],
            UnixSocketPath = unix ? "/tmp/" + port.ToString(CultureInfo.InvariantCulture) : null,
            StatusSocketPath = hosted.StatusSocket is { Length: > 0 } status ? Path.GetFullPath(status) : null,
            MaxSessions = hosted.MaxSessions,
            MaxSessionMessages = configuration.MaxSessionMessages,
            HandshakeTimeout = hosted.HandshakeTimeout,
            LoggerFactory = loggers,
        };
        if (configuration.Daemons.Count > 1)
        {
            string state = hosted.StateDirectory is { Length: > 0 } dir
                ? Path.GetFullPath(dir)
                : Path.Combine(Path.GetTempPath(), $"conclave-{self.Name}");
            string? baseDirectory = hosted.ConfigFile is { Length: > 0 } path ? Path.GetDirectoryName(Path.GetFullPath(path)) : null;
            options = options with { Ring = RingConfiguration.Build(configuration, self, state, baseDirectory) };
        }

        options.Validate();
        return options;
    }

    private static IPAddress ParseAddress(string text) =>
        IPAddress.TryParse(text, out IPAddress? address) ? address : throw new ArgumentException($"Listen: '{text}' is not an IP address.");

    private static DaemonEntry SelectSelf(SpreadConfiguration configuration, string? name) =>
        configuration.SelectSelf(name, out string? problem)
        ?? throw new ArgumentException(name is { Length: > 0 } ? $"Name: {problem}." : $"Name: {problem}; set Name.");
}
