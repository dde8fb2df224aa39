using Conclave.Protocol.Spread;

namespace Conclave.Client;

/// <summary>
/// A Spread error: a reject code sent by the daemon during the handshake, a check the client library
/// makes before sending (as libspread does), or the loss of the session.
/// </summary>
public sealed class SpreadException : Exception
{
    /// <summary>Creates an exception carrying a Spread error code.</summary>
    /// <param name="error">The Spread error code.</param>
    public SpreadException(SpreadError error)
        : this(error, DefaultMessage(error), null)
    {
    }

    /// <summary>Creates an exception carrying a Spread error code and a description.</summary>
    /// <param name="error">The Spread error code.</param>
    /// <param name="message">What went wrong, in a sentence.</param>
    /// <param name="innerException">The exception that caused this one, if any.</param>
    public SpreadException(SpreadError error, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
    }

    /// <summary>Creates an exception with the code <see cref="SpreadError.IllegalMessage"/>.</summary>
    public SpreadException()
        : this(SpreadError.IllegalMessage)
    {
    }

    /// <summary>Creates an exception with the code <see cref="SpreadError.IllegalMessage"/> and a description.</summary>
    /// <param name="message">What went wrong, in a sentence.</param>
    public SpreadException(string message)
        : this(SpreadError.IllegalMessage, message, null)
    {
    }

    /// <summary>Creates an exception with the code <see cref="SpreadError.IllegalMessage"/>, a description and a cause.</summary>
    /// <param name="message">What went wrong, in a sentence.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public SpreadException(string message, Exception innerException)
        : this(SpreadError.IllegalMessage, message, innerException)
    {
    }

    /// <summary>Gets the Spread error code (the value libspread would have returned).</summary>
    public SpreadError Error { get; }

    private static string DefaultMessage(SpreadError error) => error switch
    {
        SpreadError.IllegalSpread => "The spread name is not of the form PORT@HOST, PORT or empty (ILLEGAL_SPREAD).",
        SpreadError.CouldNotConnect => "No Spread daemon accepted the connection (COULD_NOT_CONNECT).",
        SpreadError.RejectQuota => "The daemon has too many sessions (REJECT_QUOTA).",
        SpreadError.RejectNoName => "The daemon requires a private name (REJECT_NO_NAME).",
        SpreadError.RejectIllegalName => "The private name is too long or has an illegal character (REJECT_ILLEGAL_NAME).",
        SpreadError.RejectNotUnique => "Another session of this daemon already uses the private name (REJECT_NOT_UNIQUE).",
        SpreadError.RejectVersion => "The daemon and library versions are not compatible (REJECT_VERSION).",
        SpreadError.ConnectionClosed => "The connection to the Spread daemon was closed (CONNECTION_CLOSED).",
        SpreadError.RejectAuth => "Authentication was refused (REJECT_AUTH).",
        SpreadError.IllegalSession => "The session is not open (ILLEGAL_SESSION).",
        SpreadError.IllegalService => "The service type is not exactly one of the six data services, optionally with SELF_DISCARD (ILLEGAL_SERVICE).",
        SpreadError.IllegalMessage => "The daemon sent a malformed message (ILLEGAL_MESSAGE).",
        SpreadError.IllegalGroup => "The group name is empty, longer than 31 bytes or has a byte outside '$'..'~' (ILLEGAL_GROUP).",
        SpreadError.MessageTooLong => "The body plus 32 bytes per group exceeds the largest Spread message (MESSAGE_TOO_LONG).",
        _ => $"Spread error {(int)error} ({error}).",
    };
}
