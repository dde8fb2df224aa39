using System.Security.Cryptography;
using System.Text;

namespace Conclave.Daemon.Network;

/// <summary>
/// The pre-shared key that seals every daemon packet of a cluster. File format (text, one line each):
/// <code>
/// conclave-cluster-key v1
/// &lt;64 hex digits: 32 random bytes&gt;
/// </code>
/// written with owner-only permissions by <c>conclave keygen --cluster FILE</c>.
/// </summary>
public sealed class ClusterKey
{
    private const string Header = "conclave-cluster-key v1";
    private const int KeySize = 32;
    private readonly byte[] _key;

    private ClusterKey(byte[] key)
    {
        _key = key;
        KeyId = BitConverter.ToUInt32(SHA256.HashData(key), 0);
    }

    /// <summary>A short fingerprint carried in every packet, so another cluster's packets are told apart from forgeries.</summary>
    public uint KeyId { get; }

    internal ReadOnlySpan<byte> Secret => _key;

    /// <summary>Makes a fresh random key.</summary>
    public static ClusterKey Generate() => new(RandomNumberGenerator.GetBytes(KeySize));

    /// <summary>Writes the key file with mode 0600; refuses to overwrite unless <paramref name="overwrite"/>.</summary>
    public void Save(string path, bool overwrite)
    {
        var options = new FileStreamOptions { Mode = overwrite ? FileMode.Create : FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        {
            stream.Write(Encoding.ASCII.GetBytes($"{Header}\n{Convert.ToHexStringLower(_key)}\n"));
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>Reads a key file; every problem is a <see cref="ClusterKeyException"/> naming the file and the fault.</summary>
    public static ClusterKey Load(string path)
    {
        string[] lines;
        try
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            {
                throw new ClusterKeyException($"{path}: the cluster key file is readable or writable by others; chmod 600 it");
            }

            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ClusterKeyException($"{path}: cannot read the cluster key file: {ex.Message}", ex);
        }

        if (lines.Length < 2 || lines[0].Trim() != Header)
        {
            throw new ClusterKeyException($"{path}: not a cluster key file (the first line must be '{Header}')");
        }

        byte[] key;
        try
        {
            key = Convert.FromHexString(lines[1].Trim());
        }
        catch (FormatException)
        {
            throw new ClusterKeyException($"{path}: the key line is not hexadecimal");
        }

        if (key.Length != KeySize)
        {
            throw new ClusterKeyException($"{path}: the key has {key.Length} bytes; it must have {KeySize}");
        }

        if (IsWeak(key))
        {
            throw new ClusterKeyException($"{path}: the key is weak (too few distinct bytes); make one with 'conclave keygen --cluster'");
        }

        return new ClusterKey(key);
    }

    /// <summary>A key of repeated or nearly constant bytes was not made by a random generator.</summary>
    private static bool IsWeak(byte[] key) => key.Distinct().Count() < 12;
}

/// <summary>A cluster key file that cannot be used.</summary>
public sealed class ClusterKeyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ClusterKeyException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ClusterKeyException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ClusterKeyException()
    {
    }
}
