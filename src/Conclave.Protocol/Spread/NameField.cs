using System.Text;

namespace Conclave.Protocol.Spread;

/// <summary>
/// The 32-byte, NUL-padded name fields of the Spread header and group lists, and Spread's name rules
/// (spread-client-protocol.md §2.1, §3.4): every byte of a name is in 0x24..0x7E.
/// </summary>
public static class NameField
{
    /// <summary>True when every byte is a legal name character ('$'..'~').</summary>
    public static bool HasLegalCharacters(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
        {
            if (b is < 0x24 or > 0x7E)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True for a name a client may join or leave: 1..31 legal bytes.</summary>
    public static bool IsLegalGroupName(string name) =>
        name.Length is > 0 and <= SpreadLimits.MaxGroupNameLength && name.All(c => c is >= '$' and <= '~');

    /// <summary>The bytes of a field up to its first NUL.</summary>
    public static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> field)
    {
        int end = field.IndexOf((byte)0);
        return end < 0 ? field : field[..end];
    }

    /// <summary>Decodes a field to a string (bytes up to the first NUL, as ASCII/Latin-1).</summary>
    public static string Read(ReadOnlySpan<byte> field) => Encoding.Latin1.GetString(Trim(field));

    /// <summary>Writes a name into a 32-byte field, NUL-padded, truncated to 31 bytes as the C library does.</summary>
    public static void Write(string name, Span<byte> field)
    {
        field = field[..SpreadLimits.GroupNameSize];
        field.Clear();
        int length = Math.Min(name.Length, SpreadLimits.MaxGroupNameLength);
        Encoding.Latin1.GetBytes(name.AsSpan(0, length), field);
    }
}
