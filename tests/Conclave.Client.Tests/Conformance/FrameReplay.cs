using System.Text.Json;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Conformance;

/// <summary>
/// Replays one recorded stream of a ≥ 3.16 client frame by frame, without a driver program: every
/// recorded request frame is re-issued through <see cref="GroupConnection"/> and every recorded
/// daemon frame is received and compared with the recording's annotation of it.
/// </summary>
internal static class FrameReplay
{
    public static async Task RunAsync(Transcript transcript, string label, int? fragmentSeed, CancellationToken cancellationToken)
    {
        TranscriptStream stream = transcript.Stream(label);
        byte[] request = stream.ClientBytes;
        byte[] reply = stream.DaemonBytes;
        List<SentFrame> sent = ClientStream.Frames(request);
        List<JsonElement> expected = [.. transcript.Annotated.EnumerateArray().Where(a =>
            a.GetProperty("client").GetString() == label && a.GetProperty("dir").GetString() == "d2c" && a.GetProperty("kind").GetString() == "frame")];

        // Order of events by the chunk that completes each d2c frame / starts each c2d frame.
        List<long> sentStarts = FrameStarts(request, ClientStream.HandshakeLength(request), out _);
        List<long> replyEnds = FrameEnds(reply, DaemonHandshakeLength(reply));
        Assert.Equal(expected.Count, replyEnds.Count);
        var events = new List<(int Chunk, bool Send, int Index)>();
        events.AddRange(sentStarts.Select((o, i) => (ChunkOf(stream, true, o), true, i)));
        events.AddRange(replyEnds.Select((o, i) => (ChunkOf(stream, false, o - 1), false, i)));

        await using var daemon = new ScriptedDaemon(stream, fragmentSeed, cancellationToken);
        string name = System.Text.Encoding.Latin1.GetString(request, 5, request[4]);
        await using GroupConnection connection = await GroupConnection.ConnectAsync(daemon.SpreadName, name, (request[3] & 1) != 0, request[3] >> 4, cancellationToken);
        foreach ((_, bool send, int index) in events.OrderBy(e => e.Chunk).ThenBy(e => e.Send ? 0 : 1))
        {
            if (send)
            {
                await IssueAsync(connection, sent[index], cancellationToken);
            }
            else
            {
                SpreadMessage message = await connection.ReceiveAsync(cancellationToken);
                Compare(expected[index], message, $"{transcript.Scenario}/{label} d2c frame {index}");
            }
        }

        connection.Abort();
        byte[] actual = await daemon.Completion.WaitAsync(cancellationToken);
        Assert.Equal(Convert.ToHexString(ClientStream.NormaliseNameFields(request)), Convert.ToHexString(actual));
    }

    private static async Task IssueAsync(GroupConnection connection, SentFrame frame, CancellationToken cancellationToken)
    {
        switch (frame.Type)
        {
            case ServiceType.JoinRequest:
                await connection.JoinAsync(frame.Groups[0], cancellationToken);
                break;
            case ServiceType.LeaveRequest:
                await connection.LeaveAsync(frame.Groups[0], cancellationToken);
                break;
            case ServiceType.KillRequest:
                Assert.Equal([connection.PrivateGroup], frame.Groups);
                await connection.DisconnectAsync(cancellationToken);
                break;
            default:
                await connection.MulticastAsync(frame.Type, frame.Groups, frame.MessageType, frame.Body, cancellationToken);
                break;
        }
    }

    private static void Compare(JsonElement a, SpreadMessage message, string where)
    {
        uint type = Convert.ToUInt32(a.GetProperty("type").GetString(), 16) & ~MessageHeader.EndianMarker;
        Assert.True(type == (uint)message.ServiceType, $"{where}: type 0x{type:x} expected, got {message.ServiceType}");
        string[] groups = [.. a.GetProperty("groups").EnumerateArray().Select(g => g.GetString()!)];
        string sender = a.GetProperty("private_group_name").GetString()!;
        switch (message)
        {
            case DataMessage data:
                Assert.Equal(sender, data.Sender);
                Assert.Equal(groups, data.Groups);
                Assert.Equal(a.GetProperty("mess_type").GetInt32(), data.MessageType);
                if (a.TryGetProperty("body_hex", out JsonElement body))
                {
                    Assert.Equal(body.GetString(), Convert.ToHexString(data.Body.Span).ToLowerInvariant());
                }

                break;
            case MembershipMessage view:
                JsonElement m = a.GetProperty("membership");
                Assert.Equal(sender, view.Group);
                Assert.Equal(groups, view.Members);
                CompareGroupId(m.GetProperty("group_id"), view.GroupId);
                JsonElement[] sets = [.. m.GetProperty("vs_sets").EnumerateArray()];
                Assert.Equal(sets.Select(s => s.GetProperty("members").EnumerateArray().Select(x => x.GetString()!).ToArray()), view.VsSets.Select(s => s.ToArray()));
                int localOffset = m.GetProperty("local_vs_set_offset").GetInt32();
                Assert.Equal(Array.FindIndex(sets, s => s.GetProperty("vs_offset").GetInt32() == localOffset), view.LocalVsSetIndex);
                break;
            case TransitionalMembershipMessage transitional:
                Assert.Equal(sender, transitional.Group);
                CompareGroupId(a.GetProperty("membership").GetProperty("group_id"), transitional.GroupId);
                break;
            case SelfLeaveMessage selfLeave:
                Assert.Equal(sender, selfLeave.Group);
                Assert.Equal("self_leave", a.GetProperty("membership").GetProperty("kind").GetString());
                break;
            default:
                Assert.Fail($"{where}: unexpected {message.GetType().Name}");
                break;
        }
    }

    private static void CompareGroupId(JsonElement gid, GroupId actual) =>
        Assert.Equal(new GroupId((int)gid.GetProperty("proc_id").GetInt64(), (int)gid.GetProperty("time").GetInt64(), gid.GetProperty("index").GetInt32()), actual);

    private static int DaemonHandshakeLength(byte[] reply)
    {
        int list = 1 + reply[0];
        return list + 4 + 1 + reply[list + 4];
    }

    private static List<long> FrameStarts(byte[] stream, int at, out List<long> ends)
    {
        var starts = new List<long>();
        ends = [];
        while (at < stream.Length)
        {
            MessageHeader header = MessageHeader.Parse(stream.AsSpan(at));
            starts.Add(at);
            at += MessageHeader.Size + (int)header.PayloadLength + ((header.Type & ServiceType.Reject) != 0 ? 4 : 0);
            ends.Add(at);
        }

        return starts;
    }

    private static List<long> FrameEnds(byte[] stream, int at)
    {
        FrameStarts(stream, at, out List<long> ends);
        return ends;
    }

    private static int ChunkOf(TranscriptStream stream, bool toDaemon, long offset)
    {
        long seen = 0;
        for (int i = 0; i < stream.Chunks.Count; i++)
        {
            Chunk c = stream.Chunks[i];
            if (c.ToDaemon != toDaemon)
            {
                continue;
            }

            seen += c.Bytes.Length;
            if (offset < seen)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"Offset {offset} is beyond the stream.");
    }
}
