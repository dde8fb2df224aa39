using System.Net;
using System.Text.RegularExpressions;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Tests.Conformance;

/// <summary>
/// Replays the client side of a transcript against a daemon, in the recorded order: before each
/// client chunk it waits until every stream has received the bytes the real daemon had sent by then.
/// Then it compares each stream byte for byte under the README's rules.
/// </summary>
internal static partial class TranscriptReplayer
{
    /// <param name="framesHandled">How many client frames the daemon has taken in (ordered or refused as malformed).</param>
    /// <param name="concurrentSenders">
    /// The recording has clients sending at the same moment, so the real daemon's interleaving of
    /// them was its own choice (README rule 2): compare per membership epoch as multisets.
    /// </param>
    public static async Task<IReadOnlyList<string>> ReplayAsync(Transcript transcript, IPEndPoint endpoint, Func<long> framesHandled, bool concurrentSenders = false)
    {
        long framesSent = 0;
        var connections = new Dictionary<TranscriptStream, ReplayConnection>();
        var sent = new Dictionary<TranscriptStream, long>();
        var generatedNames = new Dictionary<TranscriptStream, (string Recorded, string Ours)>();
        var timeline = transcript.Streams
            .SelectMany(s => s.Events.Select(e => (Stream: s, Event: e)))
            .OrderBy(x => x.Event.TimeMs)
            .ToList();
        try
        {
            foreach ((TranscriptStream stream, TranscriptEvent evt) in timeline)
            {
                if (!evt.ClientToDaemon)
                {
                    continue;
                }

                await WaitForDaemonBytesBefore(evt.TimeMs, transcript, connections);
                await WaitForFramesHandled(framesSent, framesHandled, transcript.Scenario);
                if (!connections.TryGetValue(stream, out ReplayConnection? connection))
                {
                    if (evt.EndOfStream is not null)
                    {
                        continue;
                    }

                    connection = await ReplayConnection.OpenAsync(endpoint);
                    connections[stream] = connection;
                    sent[stream] = 0;
                }

                if (evt.EndOfStream is not null)
                {
                    connection.ShutdownSend();
                    continue;
                }

                byte[] data = RewriteGeneratedName(stream, evt, sent[stream], connection, generatedNames);
                framesSent += CompleteFramesIn(stream, sent[stream] + evt.Data.Length) - CompleteFramesIn(stream, sent[stream]);
                sent[stream] += evt.Data.Length;
                await connection.SendAsync(data);
            }

            var failures = new List<string>();
            foreach (TranscriptStream stream in transcript.Streams)
            {
                if (connections.TryGetValue(stream, out ReplayConnection? connection))
                {
                    failures.AddRange(await CompareAsync(stream, connection, generatedNames.GetValueOrDefault(stream), concurrentSenders));
                }
            }

            return failures;
        }
        finally
        {
            foreach (ReplayConnection connection in connections.Values)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Clients on different sockets race to the daemon; waiting until it has taken in every frame sent
    /// so far makes the replayed order the recorded one.
    /// </summary>
    private static async Task WaitForFramesHandled(long framesSent, Func<long> framesHandled, string scenario)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (framesHandled() < framesSent)
        {
            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"{scenario}: the daemon took in {framesHandled()} of {framesSent} frames");
            }

            await Task.Yield();
        }
    }

    private static int CompleteFramesIn(TranscriptStream stream, long bytesSent)
    {
        byte[] c2d = stream.Bytes(clientToDaemon: true);
        int framesStart = StreamLayout.ClientHandshake(c2d).FramesStart;
        int count = 0;
        foreach ((int start, Protocol.Spread.MessageHeader header) in StreamLayout.Frames(c2d, framesStart))
        {
            if (start + MessageHeaderSize + header.PayloadLength <= bytesSent)
            {
                count++;
            }
        }

        // A malformed header is refused as soon as it arrives, whatever follows it.
        foreach (int start in MalformedHeaderStarts(c2d, framesStart))
        {
            if (start + MessageHeaderSize <= bytesSent)
            {
                count++;
            }
        }

        return count;
    }

    private const int MessageHeaderSize = Protocol.Spread.MessageHeader.Size;

    private static IEnumerable<int> MalformedHeaderStarts(byte[] c2d, int framesStart)
    {
        int end = framesStart;
        foreach ((int start, Protocol.Spread.MessageHeader header) in StreamLayout.Frames(c2d, framesStart))
        {
            end = start + MessageHeaderSize + (int)header.PayloadLength;
        }

        if (c2d.Length - end >= MessageHeaderSize)
        {
            yield return end;
        }
    }

    private static async Task WaitForDaemonBytesBefore(double timeMs, Transcript transcript, Dictionary<TranscriptStream, ReplayConnection> connections)
    {
        foreach ((TranscriptStream stream, ReplayConnection connection) in connections)
        {
            long expected = stream.Events.Where(e => !e.ClientToDaemon && e.TimeMs < timeMs).Sum(e => e.Data.Length);
            await connection.WaitForBytesAsync(expected, $"{transcript.Scenario}/{stream.Client} before t={timeMs}ms");
        }
    }

    /// <summary>Scenario 02: the daemon names the client; frames the client sends carry that name.</summary>
    private static byte[] RewriteGeneratedName(TranscriptStream stream, TranscriptEvent evt, long offset, ReplayConnection connection, Dictionary<TranscriptStream, (string, string)> names)
    {
        byte[] c2d = stream.Bytes(clientToDaemon: true);
        (int framesStart, SpreadVersion version) = StreamLayout.ClientHandshake(c2d);
        if (c2d.Length < 5 || offset < framesStart)
        {
            return evt.Data;
        }

        int nameLength = c2d[SpreadVersion.SendsPatchByte(c2d[0], c2d[1]) ? 4 : 3];
        if (nameLength != 0)
        {
            return evt.Data;
        }

        string? recorded = StreamLayout.DaemonHandshake(stream.Bytes(false), version).PrivateName;
        string? ours = StreamLayout.DaemonHandshake(connection.Received, version).PrivateName;
        if (recorded is null || ours is null)
        {
            return evt.Data;
        }

        names[stream] = (recorded, ours);
        byte[] rewritten = (byte[])c2d.Clone();
        StreamLayout.RewriteNames(rewritten, framesStart, n => n == recorded ? ours : n);
        return rewritten.AsSpan((int)offset, evt.Data.Length).ToArray();
    }

    private static async Task<List<string>> CompareAsync(TranscriptStream stream, ReplayConnection connection, (string Recorded, string Ours) generated, bool concurrentSenders)
    {
        var failures = new List<string>();
        byte[] expected = stream.Bytes(clientToDaemon: false);
        await connection.WaitForBytesAsync(expected.Length, stream.Client);
        if (stream.DaemonCloses && stream.Events.First(e => !e.ClientToDaemon && e.EndOfStream is not null).TimeMs <=
            stream.Events.Where(e => e.ClientToDaemon && e.EndOfStream is not null).Select(e => e.TimeMs).DefaultIfEmpty(double.MaxValue).First())
        {
            await connection.WaitForEndAsync(stream.Client);
        }

        byte[] actual = connection.Received;
        (int framesStart, SpreadVersion version) = StreamLayout.ClientHandshake(stream.Bytes(true));
        int expectedFrames = StreamLayout.DaemonHandshake(expected, version).FramesStart;
        int actualFrames = StreamLayout.DaemonHandshake(actual, version).FramesStart;
        _ = framesStart;
        if (generated.Recorded is null && RequestedEmptyName(stream.Bytes(true)) &&
            StreamLayout.DaemonHandshake(expected, version).PrivateName is { } recordedName &&
            StreamLayout.DaemonHandshake(actual, version).PrivateName is { } ourName)
        {
            generated = (recordedName, ourName);
        }

        if (generated.Recorded is not null)
        {
            if (!GeneratedName().IsMatch(generated.Ours))
            {
                failures.Add($"{stream.Client}: generated name {generated.Ours} does not look like #r<n>-<n>#localhost");
            }

            expected = [.. actual.AsSpan(0, actualFrames), .. expected.AsSpan(expectedFrames)];
            expectedFrames = actualFrames;
            StreamLayout.RewriteNames(expected, expectedFrames, n => n == generated.Recorded ? generated.Ours : n);
        }

        byte[] maskedExpected = StreamLayout.MaskGroupIdTimes(expected, expectedFrames);
        byte[] maskedActual = StreamLayout.MaskGroupIdTimes(actual, actualFrames);
        if (concurrentSenders && !maskedExpected.AsSpan().SequenceEqual(maskedActual))
        {
            failures.AddRange(CompareAsEpochs(stream.Client, maskedExpected, expectedFrames, maskedActual, actualFrames));
        }
        else if (!maskedExpected.AsSpan().SequenceEqual(maskedActual))
        {
            int at = maskedExpected.AsSpan().CommonPrefixLength(maskedActual);
            failures.Add($"{stream.Client}: daemon bytes differ at offset {at} (expected {maskedExpected.Length} bytes, got {maskedActual.Length}); " +
                $"expected …{Hex(maskedExpected, at)}… got …{Hex(maskedActual, at)}…");
        }

        return failures;
    }

    /// <summary>Same handshake; between membership frames, the same data frames in any order.</summary>
    private static IEnumerable<string> CompareAsEpochs(string client, byte[] expected, int expectedStart, byte[] actual, int actualStart)
    {
        if (expectedStart != actualStart || !expected.AsSpan(0, expectedStart).SequenceEqual(actual.AsSpan(0, actualStart)))
        {
            yield return $"{client}: handshake bytes differ";
            yield break;
        }

        List<List<string>> want = Epochs(expected, expectedStart);
        List<List<string>> got = Epochs(actual, actualStart);
        if (want.Count != got.Count)
        {
            yield return $"{client}: {got.Count} membership epochs, expected {want.Count}";
            yield break;
        }

        for (int i = 0; i < want.Count; i++)
        {
            if (!want[i].Order(StringComparer.Ordinal).SequenceEqual(got[i].Order(StringComparer.Ordinal)))
            {
                yield return $"{client}: epoch {i} holds different frames";
            }
        }
    }

    private static List<List<string>> Epochs(byte[] stream, int framesStart)
    {
        var epochs = new List<List<string>> { new() };
        foreach ((int start, Protocol.Spread.MessageHeader header) in StreamLayout.Frames(stream, framesStart))
        {
            string frame = Convert.ToHexString(stream, start, MessageHeaderSize + (int)header.PayloadLength);
            if (Protocol.Spread.ServiceTypeRules.IsMembership(header.Type))
            {
                epochs.Add([frame]);
            }
            else
            {
                epochs[^1].Add(frame);
            }
        }

        return epochs;
    }

    private static bool RequestedEmptyName(byte[] c2d) =>
        c2d.Length >= 5 && c2d[SpreadVersion.SendsPatchByte(c2d[0], c2d[1]) ? 4 : 3] == 0;

    private static string Hex(byte[] bytes, int at) =>
        at >= bytes.Length ? "(end)" : Convert.ToHexString(bytes, Math.Max(0, at - 8), Math.Min(40, bytes.Length - Math.Max(0, at - 8)));

    [GeneratedRegex("^#r[0-9]{1,4}-[0-9]+#localhost$")]
    private static partial Regex GeneratedName();
}
