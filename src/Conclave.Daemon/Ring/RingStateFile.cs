using System.Globalization;

namespace Conclave.Daemon.Ring;

/// <summary>
/// The ring sequence and incarnation on stable storage (ring-protocol.md §1.1): one line
/// "seq incarnation", replaced atomically by rename.
/// </summary>
internal sealed class RingStateFile(string path)
{
    public string Path { get; } = path;

    public (ulong RingSeq, ulong Incarnation) Load()
    {
        try
        {
            string[] parts = File.ReadAllText(Path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && ulong.TryParse(parts[0], CultureInfo.InvariantCulture, out ulong seq) && ulong.TryParse(parts[1], CultureInfo.InvariantCulture, out ulong incarnation))
            {
                return (seq, incarnation);
            }
        }
        catch (FileNotFoundException)
        {
        }
        catch (DirectoryNotFoundException)
        {
        }

        return (0, 0);
    }

    public void Save(ulong ringSeq, ulong incarnation)
    {
        string temporary = Path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(string.Create(CultureInfo.InvariantCulture, $"{ringSeq} {incarnation}\n"));
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, Path, overwrite: true);
    }
}
