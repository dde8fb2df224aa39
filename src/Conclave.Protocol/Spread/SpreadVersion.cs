namespace Conclave.Protocol.Spread;

/// <summary>A Spread library or daemon version as the handshake carries it (three bytes).</summary>
public readonly record struct SpreadVersion(int Major, int Minor, int Patch) : IComparable<SpreadVersion>
{
    /// <summary>Spread's own comparison key: major·10000 + minor·100 + patch.</summary>
    public int Code => (Major * 10000) + (Minor * 100) + Patch;

    /// <summary>Libraries newer than 3.14 send (and receive) the patch byte.</summary>
    public static bool SendsPatchByte(int major, int minor) => (major * 10000) + (minor * 100) > 31400;

    /// <summary>Libraries from 3.16.0 on take part in the authentication exchange.</summary>
    public bool UsesAuthExchange => Code >= 31600;

    /// <summary>Libraries from 3.15.0 on read the daemon's patch byte in the accept reply.</summary>
    public bool ReadsPatchByte => Code >= 31500;

    /// <summary>The oldest library a 4.4 daemon accepts (3.1.0).</summary>
    public bool IsSupported => Code >= 30100;

    /// <inheritdoc />
    public int CompareTo(SpreadVersion other) => Code.CompareTo(other.Code);

    /// <inheritdoc />
    public override string ToString() => $"{Major}.{Minor}.{Patch}";

    /// <summary>Whether the left version precedes the right one.</summary>
    public static bool operator <(SpreadVersion left, SpreadVersion right) => left.Code < right.Code;
    /// <summary>Whether the left version follows the right one.</summary>
    public static bool operator >(SpreadVersion left, SpreadVersion right) => left.Code > right.Code;
    /// <summary>Whether the left version precedes or equals the right one.</summary>
    public static bool operator <=(SpreadVersion left, SpreadVersion right) => left.Code <= right.Code;
    /// <summary>Whether the left version follows or equals the right one.</summary>
    public static bool operator >=(SpreadVersion left, SpreadVersion right) => left.Code >= right.Code;
}
