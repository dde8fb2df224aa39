using System.Text.Json;

namespace Conclave.Daemon.Tests.Conformance;

/// <summary>A recorded Spread 4.4 session transcript (../shared/conformance/spread-4.4/README.md).</summary>
internal sealed class Transcript
{
    public required string Scenario { get; init; }

    public required IReadOnlyList<TranscriptStream> Streams { get; init; }

    public static string Directory => FindShared("conformance/spread-4.4");

    public static Transcript Load(string file)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Directory, file)));
        var streams = new List<TranscriptStream>();
        foreach (JsonElement stream in doc.RootElement.GetProperty("streams").EnumerateArray())
        {
            var events = new List<TranscriptEvent>();
            foreach (JsonElement chunk in stream.GetProperty("chunks").EnumerateArray())
            {
                events.Add(new TranscriptEvent(chunk.GetProperty("t_ms").GetDouble(), chunk.GetProperty("dir").GetString() == "c2d",
                    Convert.FromHexString(chunk.GetProperty("hex").GetString()!), EndOfStream: null));
            }

            foreach (JsonElement eof in stream.GetProperty("eof").EnumerateArray())
            {
                events.Add(new TranscriptEvent(eof.GetProperty("t_ms").GetDouble(), eof.GetProperty("dir").GetString() == "c2d", [], eof.GetProperty("how").GetString()));
            }

            streams.Add(new TranscriptStream(stream.GetProperty("client").GetString()!, events));
        }

        return new Transcript { Scenario = doc.RootElement.GetProperty("scenario").GetString()!, Streams = streams };
    }

    /// <summary>Walks up from the test binary to the directory that holds <c>shared/</c> (the repository's sibling).</summary>
    public static string FindShared(string relative)
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", relative);
            if (System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"shared/{relative} not found above {AppContext.BaseDirectory}");
    }
}

internal sealed record TranscriptStream(string Client, IReadOnlyList<TranscriptEvent> Events)
{
    public byte[] Bytes(bool clientToDaemon) => [.. Events.Where(e => e.ClientToDaemon == clientToDaemon).SelectMany(e => e.Data)];

    /// <summary>True when the recording shows the daemon closing the connection.</summary>
    public bool DaemonCloses => Events.Any(e => !e.ClientToDaemon && e.EndOfStream is not null);
}

internal sealed record TranscriptEvent(double TimeMs, bool ClientToDaemon, byte[] Data, string? EndOfStream);
