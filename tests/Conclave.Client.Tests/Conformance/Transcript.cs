using System.Text.Json;

namespace Conclave.Client.Tests.Conformance;

/// <summary>One recorded chunk: a single recv() at the recording proxy.</summary>
internal sealed record Chunk(bool ToDaemon, double TimeMs, byte[] Bytes);

/// <summary>One recorded client ⇄ daemon connection of a conformance scenario.</summary>
internal sealed class TranscriptStream
{
    public required string Label { get; init; }

    public required int ConnectionIndex { get; init; }

    public required IReadOnlyList<Chunk> Chunks { get; init; }

    /// <summary>When the daemon closed its side, or null if it never did before the client.</summary>
    public double? DaemonEofMs { get; init; }

    public byte[] ClientBytes => [.. Chunks.Where(c => c.ToDaemon).SelectMany(c => c.Bytes)];

    public byte[] DaemonBytes => [.. Chunks.Where(c => !c.ToDaemon).SelectMany(c => c.Bytes)];
}

/// <summary>A scenario file of ../shared/conformance/spread-4.4 (see its README for the format).</summary>
internal sealed class Transcript
{
    public required string Scenario { get; init; }

    public required IReadOnlyList<TranscriptStream> Streams { get; init; }

    public required IReadOnlyList<string> DriverLines { get; init; }

    public required JsonElement Annotated { get; init; }

    public TranscriptStream Stream(string label) => Streams.Single(s => s.Label == label);

    public static Transcript Load(string fileName)
    {
        string path = Path.Combine(ConformanceDirectory, fileName);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(path));
        JsonElement root = doc.RootElement;
        var streams = new List<TranscriptStream>();
        foreach (JsonElement s in root.GetProperty("streams").EnumerateArray())
        {
            var chunks = s.GetProperty("chunks").EnumerateArray()
                .Select(c => new Chunk(c.GetProperty("dir").GetString() == "c2d", c.GetProperty("t_ms").GetDouble(), Convert.FromHexString(c.GetProperty("hex").GetString()!)))
                .ToList();
            double? daemonEof = s.GetProperty("eof").EnumerateArray()
                .Where(e => e.GetProperty("dir").GetString() == "d2c")
                .Select(e => (double?)e.GetProperty("t_ms").GetDouble())
                .FirstOrDefault();
            streams.Add(new TranscriptStream
            {
                Label = s.GetProperty("client").GetString()!,
                ConnectionIndex = s.GetProperty("connection_index").GetInt32(),
                Chunks = chunks,
                DaemonEofMs = daemonEof,
            });
        }

        return new Transcript
        {
            Scenario = root.GetProperty("scenario").GetString()!,
            Streams = [.. streams.OrderBy(s => s.ConnectionIndex)],
            DriverLines = [.. root.GetProperty("driver_transcript").EnumerateArray().Select(l => l.GetString()!)],
            Annotated = root.GetProperty("annotated").Clone(),
        };
    }

    /// <summary>
    /// The recordings live outside the repository, beside it in <c>../shared</c>; CONCLAVE_CONFORMANCE_DIR overrides.
    /// A missing directory fails the tests rather than skipping them.
    /// </summary>
    public static string ConformanceDirectory
    {
        get
        {
            string? fromEnvironment = Environment.GetEnvironmentVariable("CONCLAVE_CONFORMANCE_DIR");
            if (!string.IsNullOrEmpty(fromEnvironment))
            {
                return fromEnvironment;
            }

            for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                foreach (string candidate in new[] { Path.Combine(dir.FullName, "shared", "conformance", "spread-4.4"), Path.Combine(dir.FullName, "conformance", "spread-4.4") })
                {
                    if (File.Exists(Path.Combine(candidate, "README.md")))
                    {
                        return candidate;
                    }
                }
            }

            throw new DirectoryNotFoundException("The Spread 4.4 conformance transcripts (../shared/conformance/spread-4.4) were not found; set CONCLAVE_CONFORMANCE_DIR.");
        }
    }
}
