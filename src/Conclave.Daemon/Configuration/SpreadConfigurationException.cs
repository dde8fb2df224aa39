namespace Conclave.Daemon.Configuration;

/// <summary>A <c>spread.conf</c> that cannot be used, with the file and line at fault.</summary>
public sealed class SpreadConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SpreadConfigurationException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public SpreadConfigurationException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public SpreadConfigurationException()
    {
    }
}
