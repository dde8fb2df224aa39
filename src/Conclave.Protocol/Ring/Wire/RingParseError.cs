namespace Conclave.Protocol.Ring.Wire;

/// <summary>Why a ring packet was rejected. Rejected packets are dropped and counted, never thrown.</summary>
public enum RingParseError
{
    /// <summary>The packet parsed.</summary>
    None = 0,
    /// <summary>Shorter than its header or than a length field claims.</summary>
    Truncated,
    /// <summary>Wrong magic number.</summary>
    BadMagic,
    /// <summary>Unknown protocol version.</summary>
    BadVersion,
    /// <summary>Unknown message type.</summary>
    BadType,
    /// <summary>Checksum mismatch.</summary>
    BadChecksum,
    /// <summary>A field is out of range (unsorted node list, unknown service, zero node id...).</summary>
    BadField,
    /// <summary>Bytes left over after the body.</summary>
    TrailingBytes,
}
