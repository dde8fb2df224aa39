using System.Diagnostics.Metrics;
using Conclave.Daemon;
using Conclave.Hosting.Internal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Conclave.Hosting;

/// <summary>
/// Runs a Conclave daemon for the lifetime of a .NET host: it binds its listeners (and joins its ring)
/// when the host starts and closes every session when the host stops. Registered by
/// <see cref="ConclaveServiceCollectionExtensions.AddConclaveDaemon(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{ConclaveDaemonOptions}?)"/>.
/// </summary>
public sealed class ConclaveDaemonService : IHostedService, IAsyncDisposable
{
    private readonly ConclaveDaemonOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly IMeterFactory? _meters;
    private readonly ILogger _logger;
    private SpreadDaemon? _daemon;

    /// <summary>Creates the service; the daemon starts with the host.</summary>
    /// <param name="options">The validated options.</param>
    /// <param name="loggers">Where the daemon logs; null for nowhere.</param>
    /// <param name="meters">The host's meter factory (registered by <c>AddMetrics</c>), so the daemon's meter reaches the host's listeners; null for a meter of the daemon's own.</param>
    public ConclaveDaemonService(IOptions<ConclaveDaemonOptions> options, ILoggerFactory? loggers = null, IMeterFactory? meters = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _meters = meters;
        _logger = _loggers.CreateLogger<ConclaveDaemonService>();
    }

    /// <summary>Gets the running daemon: its bound endpoints, statistics and status report.</summary>
    /// <exception cref="InvalidOperationException">The host has not started the daemon.</exception>
    public SpreadDaemon Daemon => _daemon ?? throw new InvalidOperationException("The Conclave daemon has not been started by the host.");

    /// <summary>Gets the spread name (<c>PORT@HOST</c>) of the daemon's first TCP endpoint, for clients in the same process.</summary>
    public string SpreadName
    {
        get
        {
            System.Net.IPEndPoint endpoint = Daemon.TcpEndpoints[0];
            return $"{endpoint.Port}@{endpoint.Address}";
        }
    }

    /// <summary>Builds the daemon and starts listening.</summary>
    /// <param name="cancellationToken">Unused: binding does not wait.</param>
    /// <returns>A completed task.</returns>
    /// <exception cref="System.Net.Sockets.SocketException">A port or socket path is in use.</exception>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_daemon is not null)
        {
            throw new InvalidOperationException("The Conclave daemon is already started.");
        }

        DaemonOptions options = DaemonOptionsFactory.Build(_options, _loggers) with { MeterFactory = _meters };
        var daemon = new SpreadDaemon(options);
        daemon.Start();
        _daemon = daemon;
        HostingLog.DaemonStarted(_logger, options.Name);
        return Task.CompletedTask;
    }

    /// <summary>Stops listening and closes every session.</summary>
    /// <param name="cancellationToken">Unused: the daemon bounds its own shutdown.</param>
    /// <returns>A task that completes when the daemon is stopped.</returns>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        SpreadDaemon? daemon = Interlocked.Exchange(ref _daemon, null);
        if (daemon is not null)
        {
            await daemon.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops the daemon if the host did not.</summary>
    /// <returns>A task that completes when the daemon is stopped.</returns>
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);
}
