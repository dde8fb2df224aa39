namespace Conclave.Protocol.Spread;

/// <summary>
/// Spread's accept value and error codes (sp.h). Reject codes -3..-9 travel on the wire as one signed
/// byte during the handshake; the others are library-local results.
/// </summary>
public enum SpreadError
{
    /// <summary>The session was accepted (ACCEPT_SESSION).</summary>
    AcceptSession = 1,
    /// <summary>The spread name could not be parsed.</summary>
    IllegalSpread = -1,
    /// <summary>No daemon answered.</summary>
    CouldNotConnect = -2,
    /// <summary>The daemon has too many sessions.</summary>
    RejectQuota = -3,
    /// <summary>No name (defined, never sent by a 4.4 daemon).</summary>
    RejectNoName = -4,
    /// <summary>The private name is too long or has an illegal character.</summary>
    RejectIllegalName = -5,
    /// <summary>Another session of the daemon already uses the name.</summary>
    RejectNotUnique = -6,
    /// <summary>The library or daemon version is too old.</summary>
    RejectVersion = -7,
    /// <summary>The connection was closed.</summary>
    ConnectionClosed = -8,
    /// <summary>Authentication failed or no acceptable method was chosen.</summary>
    RejectAuth = -9,
    /// <summary>The session is not valid.</summary>
    IllegalSession = -11,
    /// <summary>The service type is not valid.</summary>
    IllegalService = -12,
    /// <summary>The message is malformed.</summary>
    IllegalMessage = -13,
    /// <summary>The group name is not valid.</summary>
    IllegalGroup = -14,
    /// <summary>The receive buffer is too short for the body.</summary>
    BufferTooShort = -15,
    /// <summary>The receive group array is too short.</summary>
    GroupsTooShort = -16,
    /// <summary>The message is larger than MAX_MESSAGE_BODY_LEN.</summary>
    MessageTooLong = -17,
    /// <summary>A network error on the session.</summary>
    NetErrorOnSession = -18,
}
