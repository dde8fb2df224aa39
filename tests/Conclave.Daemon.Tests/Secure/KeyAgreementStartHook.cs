using Microsoft.Extensions.Logging;

namespace Conclave.Daemon.Tests.Secure;

/// <summary>
/// A logger factory for a secure group that calls back, on the member's receive path, the moment the group starts
/// a key agreement run (the client log catalogue's event 1000, logged before the module's first step), so a test can
/// act at exactly that point; a callback that blocks keeps the member in the run, its first step not yet taken.
/// </summary>
internal sealed class KeyAgreementStartHook(Action started) : ILoggerFactory, ILogger
{
    private const int KeyAgreementStartedEvent = 1000;

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id == KeyAgreementStartedEvent)
        {
            started();
        }
    }

    public void Dispose()
    {
    }
}
