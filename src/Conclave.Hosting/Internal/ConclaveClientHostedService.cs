using Microsoft.Extensions.Hosting;

namespace Conclave.Hosting.Internal;

/// <summary>Starts the registered <see cref="ConclaveClient"/> with the host and stops it (a goodbye to the daemon) with the host.</summary>
internal sealed class ConclaveClientHostedService(ConclaveClient client) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => client.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => client.StopAsync(cancellationToken);
}
