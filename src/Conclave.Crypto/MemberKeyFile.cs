using System.Text;

namespace Conclave.Crypto;

/// <summary>
/// Reads and writes a member key file: the long-term Ed25519 identity of one member.
/// </summary>
/// <remarks>
/// Format (UTF-8 text, one <c>key: value</c> per line, documented in docs/key-agreement.md):
/// <code>
/// conclave-member-key v1
/// public: &lt;base64 of the 32-byte Ed25519 public key&gt;
/// seed: &lt;base64 of the 32-byte Ed25519 secret seed&gt;
/// </code>
/// The file is created with permissions 0600 (owner read/write) on Unix.
/// </remarks>
public static class MemberKeyFile
{
    private const string Header = "conclave-member-key v1";

    /// <summary>Writes <paramref name="identity"/> to <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false.</exception>
    public static void Write(string path, MemberIdentity identity, bool overwrite)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (File.Exists(path))
        {
            if (!overwrite)
            {
                throw new IOException($"{path} already exists (use --force to overwrite).");
            }

            // Recreate rather than truncate so the new file gets owner-only permissions whatever the old ones were.
            File.Delete(path);
        }

        var seed = new byte[32];
        identity.ExportSeed(seed);
        string text = $"{Header}\npublic: {Convert.ToBase64String(identity.PublicKey)}\nseed: {Convert.ToBase64String(seed)}\n";
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(seed);

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        stream.Write(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Reads a member key file and checks that its public key matches its seed.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid member key file.</exception>
    public static MemberIdentity Read(string path)
    {
        string[] lines = File.ReadAllLines(path);
        if (lines.Length < 3 || lines[0].Trim() != Header)
        {
            throw new InvalidDataException($"{path} is not a Conclave member key file.");
        }

        byte[] publicKey = Field(lines, "public", path);
        byte[] seed = Field(lines, "seed", path);
        if (seed.Length != 32)
        {
            throw new InvalidDataException($"{path}: the seed must be 32 bytes.");
        }

        MemberIdentity identity = MemberIdentity.FromSeed(seed);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(seed);
        if (!identity.PublicKey.AsSpan().SequenceEqual(publicKey))
        {
            identity.Dispose();
            throw new InvalidDataException($"{path}: the public key does not match the seed.");
        }

        return identity;
    }

    private static byte[] Field(string[] lines, string name, string path)
    {
        string prefix = name + ":";
        foreach (string line in lines)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                try
                {
                    return Convert.FromBase64String(line[prefix.Length..].Trim());
                }
                catch (FormatException e)
                {
                    throw new InvalidDataException($"{path}: '{name}' is not base64.", e);
                }
            }
        }

        throw new InvalidDataException($"{path}: missing '{name}'.");
    }
}
