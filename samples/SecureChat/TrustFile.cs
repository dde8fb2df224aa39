using Conclave.Crypto;

namespace Conclave.Samples.SecureChat;

/// <summary>Reads the trusted members: one <c>#name#daemon BASE64-PUBLIC-KEY</c> per line (blank lines skipped).</summary>
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
            if (line.Length == 0)
            {
                continue;
            }

            string[] fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2)
            {
                throw new FormatException($"{path}:{number}: expected '#name#daemon BASE64-PUBLIC-KEY'.");
            }

            directory.Add(fields[0], Convert.FromBase64String(fields[1]));
        }

        return directory;
    }
}
