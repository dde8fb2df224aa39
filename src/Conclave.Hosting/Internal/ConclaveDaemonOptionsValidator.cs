using Conclave.Daemon.Configuration;
using Conclave.Daemon.Network;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Conclave.Hosting.Internal;

/// <summary>Checks at start that the daemon options build a daemon that can run: the same checks <c>conclave daemon</c> makes.</summary>
internal sealed class ConclaveDaemonOptionsValidator : IValidateOptions<ConclaveDaemonOptions>
{
    public ValidateOptionsResult Validate(string? name, ConclaveDaemonOptions options)
    {
        try
        {
            DaemonOptionsFactory.Build(options, NullLoggerFactory.Instance);
            return ValidateOptionsResult.Success;
        }
        catch (Exception ex) when (ex is ArgumentException or SpreadConfigurationException or ClusterKeyException or IOException)
        {
            return ValidateOptionsResult.Fail($"Conclave daemon: {ex.Message}");
        }
    }
}
