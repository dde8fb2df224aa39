using System.Text;

namespace Conclave.Protocol.Spread;

/// <summary>
/// The client's connect request (spread-client-protocol.md §2.1):
/// <code>
///  off size field
///    0    1 major    1 minor    1 patch (only libraries newer than 3.14 send it)
///    3    1 flags: bit 0 = wants membership messages, high nibble = priority
///    4    1 L = requested private name length (0..10; 0 asks the daemon for a name)
///    5    L name bytes, no NUL
/// </code>
/// </summary>
public sealed record ConnectRequest(SpreadVersion Version, byte Flags, string Name)
{
    /// <summary>Flag bit: the client wants group membership messages.</summary>
    public const byte MembershipFlag = 0x01;

    /// <summary>True when the client asked for membership messages.</summary>
    public bool WantsMembership => (Flags & MembershipFlag) != 0;

    /// <summary>The priority nibble (parsed, without effect, as in Spread 4.4).</summary>
    public int Priority => Flags >> 4;

    /// <summary>Encodes the request as a client sends it.</summary>
    public byte[] Encode()
    {
        byte[] name = Encoding.Latin1.GetBytes(Name);
        bool patch = SpreadVersion.SendsPatchByte(Version.Major, Version.Minor);
        var bytes = new List<byte> { (byte)Version.Major, (byte)Version.Minor };
        if (patch)
        {
            bytes.Add((byte)Version.Patch);
        }

        bytes.Add(Flags);
        bytes.Add((byte)name.Length);
        bytes.AddRange(name);
        return [.. bytes];
    }

    /// <summary>
    /// The daemon's check of a requested name: null if acceptable (empty means "generate one"),
    /// else the reject to send.
    /// </summary>
    public static SpreadError? ValidateRequestedName(ReadOnlySpan<byte> name) =>
        name.Length > SpreadLimits.MaxPrivateNameLength || !NameField.HasLegalCharacters(name)
            ? SpreadError.RejectIllegalName
            : null;
}
