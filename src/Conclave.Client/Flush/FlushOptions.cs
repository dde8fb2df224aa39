using Microsoft.Extensions.Logging;

namespace Conclave.Client.Flush;

/// <summary>Options of a <see cref="FlushConnection"/>.</summary>
public sealed record FlushOptions
{
    /// <summary>Gets a value indicating whether the layer answers every <see cref="FlushRequest"/> itself, as soon as it delivers it.</summary>
    public bool AutoFlushOk { get; init; }

    /// <summary>Gets the logger factory for the layer's debug events (a Spread view received, a Flush view installed), or null for none.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
