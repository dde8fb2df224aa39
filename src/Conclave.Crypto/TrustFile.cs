using Conclave.Crypto;

namespace Conclave.Cli.Commands;

/// <summary>
/// Reads a trust file: the members allowed in a secure group and their Ed25519 public keys, one per line as
/// <c>#name#daemon BASE64-PUBLIC-KEY</c> (the key a member key file's <c>public:</c> line holds). Lines that are
/// empty or start with <c>;</c> are ignored.
/// </summary>
internal static class TrustFile
{
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
