namespace Conclave.Crypto;

/// <summary>
/// Reads a trust file: the members allowed in a secure group and their Ed25519 public keys, one per line as
/// <c>#name#daemon BASE64-PUBLIC-KEY</c> (the key a member key file's <c>public:</c> line holds). Lines that are
/// empty or start with <c>;</c> are ignored.
/// </summary>
public static class TrustFile
{
    /// <summary>Reads the trust file at <paramref name="path"/> into a directory of member keys.</summary>
    /// <param name="path">The file to read.</param>
    /// <returns>The members and their public keys.</returns>
    /// <exception cref="InvalidDataException">A line is not a member name and a 32-byte base64 key; the message names the line.</exception>
    public static MemberDirectory Read(string path)
    {
        var directory = new MemberDirectory();
        int number = 0;
        foreach (string raw in File.ReadLines(path))
        {
            number++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith(';'))
            {
                continue;
            }

            string[] parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            byte[] key;
            try
            {
                key = parts.Length == 2 ? Convert.FromBase64String(parts[1]) : [];
            }
            catch (FormatException)
            {
                key = [];
            }

            if (parts.Length != 2 || !parts[0].StartsWith('#') || key.Length != 32)
            {
                throw new InvalidDataException($"{path}:{number}: expected '#name#daemon BASE64-ED25519-PUBLIC-KEY'.");
            }

            directory.Add(parts[0], key);
        }

        return directory;
    }
}
