using Conclave.Hosting.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Hosting;

/// <summary>Registers a hosted Conclave daemon or a reconnecting Conclave client with a service collection.</summary>
public static class ConclaveServiceCollectionExtensions
{
    /// <summary>
    /// Adds a Conclave daemon that runs with the host, with options bound from the
    /// <c>Conclave:Daemon</c> configuration section and then <paramref name="configure"/>, validated at start.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Changes the options after binding; null for none.</param>
    /// <returns>The options builder, to chain further configuration or validation.</returns>
    /// <remarks>Resolve <see cref="ConclaveDaemonService"/> to reach the running daemon.</remarks>
    public static OptionsBuilder<ConclaveDaemonOptions> AddConclaveDaemon(this IServiceCollection services, Action<ConclaveDaemonOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<ConclaveDaemonOptions> builder = services.AddOptions<ConclaveDaemonOptions>();
        services.AddSingleton<IConfigureOptions<ConclaveDaemonOptions>>(sp => new BindSection<ConclaveDaemonOptions>(sp, ConclaveDaemonOptions.SectionName));
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConclaveDaemonOptions>, ConclaveDaemonOptionsValidator>());
        services.TryAddSingleton<ConclaveDaemonService>();
        services.AddHostedService(sp => sp.GetRequiredService<ConclaveDaemonService>());
        return builder;
    }

    /// <summary>
    /// Adds a <see cref="ConclaveClient"/> singleton that connects when the host starts, reconnects and
    /// rejoins its groups after a loss, and disconnects when the host stops. Options are bound from the
    /// <c>Conclave:Client</c> configuration section and then <paramref name="configure"/>, validated at start.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Changes the options after binding; null for none.</param>
    /// <returns>The options builder, to chain further configuration or validation.</returns>
    public static OptionsBuilder<ConclaveClientOptions> AddConclaveClient(this IServiceCollection services, Action<ConclaveClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<ConclaveClientOptions> builder = services.AddOptions<ConclaveClientOptions>();
        services.AddSingleton<IConfigureOptions<ConclaveClientOptions>>(sp => new BindSection<ConclaveClientOptions>(sp, ConclaveClientOptions.SectionName));
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConclaveClientOptions>, ConclaveClientOptionsValidator>());
        services.TryAddSingleton(sp => new ConclaveClient(
            sp.GetRequiredService<IOptions<ConclaveClientOptions>>().Value,
            sp.GetService<ILogger<ConclaveClient>>(),
            sp.GetService<TimeProvider>()));
        services.AddHostedService<ConclaveClientHostedService>();
        return builder;
    }

    /// <summary>Binds a configuration section when the container has a configuration; a bare container keeps the defaults.</summary>
    private sealed class BindSection<T>(IServiceProvider services, string section) : IConfigureOptions<T>
        where T : class
    {
        public void Configure(T options)
        {
            if (services.GetService<IConfiguration>() is { } configuration)
            {
                configuration.GetSection(section).Bind(options);
            }
        }
    }
}
