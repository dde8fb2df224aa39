using System.Text;

namespace Conclave.Protocol.Spread;

/// <summary>
/// The authentication exchange of libraries from 3.16.0 on (spread-client-protocol.md §2.2–§2.3):
/// the daemon sends a length byte and its method names each followed by a space ("NULL "); the client
/// answers with 3 NUL-padded 30-byte slots naming the methods it uses.
/// </summary>
public static class AuthExchange
{
    /// <summary>The only method this implementation offers, as Spread's default.</summary>
    public const string NullMethod = "NULL";

    /// <summary>Encodes the daemon's method list: length byte, then "NAME " per method.</summary>
    public static byte[] EncodeMethodList(IEnumerable<string> methods)
    {
        string text = string.Concat(methods.Select(m => m + " "));
        byte[] body = Encoding.ASCII.GetBytes(text);
        return [(byte)body.Length, .. body];
    }

    /// <summary>Splits a received method list into names.</summary>
    public static string[] DecodeMethodList(ReadOnlySpan<byte> list) =>
        Encoding.ASCII.GetString(list).Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Encodes the client's 90-byte choice.</summary>
    public static byte[] EncodeChoice(IReadOnlyList<string> methods)
    {
        if (methods.Count > 3)
        {
            throw new ArgumentException("At most 3 authentication methods can be chosen.", nameof(methods));
        }

        var choice = new byte[SpreadLimits.AuthChoiceSize];
        for (int i = 0; i < methods.Count; i++)
        {
            byte[] name = Encoding.ASCII.GetBytes(methods[i]);
            if (name.Length >= SpreadLimits.AuthNameSize)
            {
                throw new ArgumentException($"Method name '{methods[i]}' is too long.", nameof(methods));
            }

            name.CopyTo(choice, i * SpreadLimits.AuthNameSize);
        }

        return choice;
    }

    /// <summary>
    /// The daemon's check of a 90-byte choice: walks the slots up to the first empty one; every named
    /// method must be allowed and at least one must be named.
    /// </summary>
    public static bool IsAcceptableChoice(ReadOnlySpan<byte> choice, IReadOnlyCollection<string> allowed)
    {
        if (choice.Length != SpreadLimits.AuthChoiceSize)
        {
            return false;
        }

        int named = 0;
        for (int slot = 0; slot < 3; slot++)
        {
            ReadOnlySpan<byte> name = NameField.Trim(choice.Slice(slot * SpreadLimits.AuthNameSize, SpreadLimits.AuthNameSize));
            if (name.IsEmpty)
            {
                break;
            }

            if (!allowed.Contains(Encoding.ASCII.GetString(name)))
            {
                return false;
            }

            named++;
        }

        return named > 0;
    }
}
