namespace Conclave.Cli.Commands.Groups;

/// <summary>A throughput run abandoned because a member installed a view during it (a reconfiguration under load).</summary>
internal sealed class ThroughputDisturbedException : Exception
{
    public ThroughputDisturbedException()
    {
    }

    public ThroughputDisturbedException(string message)
        : base(message)
    {
    }

    public ThroughputDisturbedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
