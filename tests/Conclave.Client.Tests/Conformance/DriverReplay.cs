using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Conformance;

/// <summary>
/// Re-runs a scenario's driver program (its <c>driver_transcript</c> lines) with <see cref="GroupConnection"/>
/// against one <see cref="ScriptedDaemon"/> per recorded stream, and checks every line: return codes,
/// and each field of what <c>SP_receive</c> returned.
/// </summary>
internal sealed partial class DriverReplay : IAsyncDisposable
{
    private readonly Transcript _transcript;
    private readonly int? _fragmentSeed;
    private readonly CancellationToken _cancellationToken;
    private readonly HashSet<TranscriptStream> _used = [];
    private readonly Dictionary<string, Session> _sessions = [];
    private readonly List<(TranscriptStream Stream, ScriptedDaemon Daemon, GroupConnection? Connection)> _all = [];

    public DriverReplay(Transcript transcript, int? fragmentSeed, CancellationToken cancellationToken)
    {
        _transcript = transcript;
        _fragmentSeed = fragmentSeed;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Lines checked, to prove the replay did something.</summary>
    public int CheckedLines { get; private set; }

    public async Task RunAsync()
    {
        foreach (string line in _transcript.DriverLines)
        {
            Match m = LinePattern().Match(line);
            if (!m.Success)
            {
                continue; // "== phase" markers, SP_error text, raw-socket notes
            }

            string client = m.Groups["client"].Value;
            string op = m.Groups["rest"].Value;
            try
            {
                await RunLineAsync(client, op);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                throw new InvalidOperationException($"{_transcript.Scenario}: line '{line}' failed: {e.Message}", e);
            }

            CheckedLines++;
        }
    }

    /// <summary>Waits for every scripted daemon and compares what each client sent with the recording.</summary>
    public async Task VerifyClientBytesAsync()
    {
        foreach ((TranscriptStream stream, ScriptedDaemon daemon, GroupConnection? connection) in _all)
        {
            connection?.Abort();
            byte[] actual = await daemon.Completion.WaitAsync(_cancellationToken);
            byte[] expected = ClientStream.NormaliseNameFields(stream.ClientBytes);
            Assert.True(
                expected.AsSpan().SequenceEqual(actual),
                $"{_transcript.Scenario}/{stream.Label}: client bytes differ from the recording at offset {FirstDifference(expected, actual)} (expected {expected.Length} bytes, sent {actual.Length}).");
        }
    }

    private static int FirstDifference(byte[] a, byte[] b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            if (a[i] != b[i])
            {
                return i;
            }
        }

        return n;
    }

    private async Task RunLineAsync(string client, string op)
    {
        Match connect = ConnectPattern().Match(op);
        if (connect.Success)
        {
            await ConnectAsync(client, connect.Groups["name"].Value, int.Parse(connect.Groups["rc"].Value, CultureInfo.InvariantCulture), connect.Groups["priv"].Value);
            return;
        }

        Session session = _sessions[client];
        if (op.StartsWith("join ", StringComparison.Ordinal))
        {
            await session.Connection.JoinAsync(op.Split(' ')[1], _cancellationToken);
            NextSent(session, ServiceType.JoinRequest);
        }
        else if (op.StartsWith("leave ", StringComparison.Ordinal))
        {
            await session.Connection.LeaveAsync(op.Split(' ')[1], _cancellationToken);
            NextSent(session, ServiceType.LeaveRequest);
        }
        else if (op.StartsWith("send ", StringComparison.Ordinal))
        {
            // The line gives service, type and length; the recorded frame gives groups and body.
            Dictionary<string, string> f = Fields(op);
            SentFrame frame = NextSent(session, null);
            Assert.Equal(ParseHex(f["serv"]), (uint)frame.Type);
            Assert.Equal(short.Parse(f["mt"], CultureInfo.InvariantCulture), frame.MessageType);
            Assert.Equal(int.Parse(f["len"], CultureInfo.InvariantCulture), frame.Body.Length);
            if (frame.Groups.Length == 1)
            {
                await session.Connection.MulticastAsync(frame.Type, frame.Groups[0], frame.MessageType, frame.Body, _cancellationToken);
            }
            else
            {
                await session.Connection.MulticastAsync(frame.Type, frame.Groups, frame.MessageType, frame.Body, _cancellationToken);
            }
        }
        else if (op.StartsWith("disconnect", StringComparison.Ordinal))
        {
            NextSent(session, ServiceType.KillRequest);
            await session.Connection.DisconnectAsync(_cancellationToken);
            Assert.True(session.Connection.IsClosed);
        }
        else if (op == "SP_kill")
        {
            session.Connection.Abort();
        }
        else if (op.StartsWith("recv error ", StringComparison.Ordinal))
        {
            var error = (SpreadError)int.Parse(op["recv error ".Length..], CultureInfo.InvariantCulture);
            SpreadException e = await Assert.ThrowsAsync<SpreadException>(async () => await session.Connection.ReceiveAsync(_cancellationToken));
            Assert.Equal(error, e.Error);
        }
        else if (op.StartsWith("recv ", StringComparison.Ordinal))
        {
            SpreadMessage message = await session.Connection.ReceiveAsync(_cancellationToken);
            CheckReceived(op, message);
        }
        else
        {
            throw new NotSupportedException($"Unknown driver operation '{op}'.");
        }
    }

    private async Task ConnectAsync(string client, string name, int rc, string priv)
    {
        TranscriptStream stream = _transcript.Streams.First(s => !_used.Contains(s) && (s.Label == client || s.Label.StartsWith(client + "#", StringComparison.Ordinal)));
        _used.Add(stream);
        var daemon = new ScriptedDaemon(stream, _fragmentSeed, _cancellationToken);
        byte[] request = stream.ClientBytes;
        bool membership = (request[3] & 1) != 0;
        int priority = request[3] >> 4;
        if (rc == 1)
        {
            GroupConnection connection = await GroupConnection.ConnectAsync(daemon.SpreadName, name, membership, priority, _cancellationToken);
            _all.Add((stream, daemon, connection));
            Assert.Equal(priv, connection.PrivateGroup);
            Assert.Equal(new SpreadVersion(4, 4, 0), connection.DaemonVersion);
            _sessions[client] = new Session(connection, new Queue<SentFrame>(ClientStream.Frames(request)));
        }
        else
        {
            _all.Add((stream, daemon, null));
            SpreadException e = await Assert.ThrowsAsync<SpreadException>(async () => await GroupConnection.ConnectAsync(daemon.SpreadName, name, membership, priority, _cancellationToken));
            Assert.Equal((SpreadError)rc, e.Error);
        }
    }

    private static SentFrame NextSent(Session session, ServiceType? expected)
    {
        SentFrame frame = session.Recorded.Dequeue();
        if (expected is ServiceType type)
        {
            Assert.Equal(type, frame.Type);
        }

        return frame;
    }

    /// <summary>Checks one "recv st=… sender=… ng=… mt=… em=… len=… g=… [gid=… changed=… num_vs=…] [body=…]" line.</summary>
    private static void CheckReceived(string op, SpreadMessage message)
    {
        Dictionary<string, string> f = Fields(op);
        List<string> groups = GroupValues(op);
        Assert.Equal(ParseHex(f["st"]), (uint)message.ServiceType);
        switch (message)
        {
            case DataMessage data:
                Assert.Equal(f["sender"], data.Sender);
                Assert.Equal(groups, data.Groups);
                Assert.Equal(short.Parse(f["mt"], CultureInfo.InvariantCulture), data.MessageType);
                Assert.Equal(f["em"] == "1", data.EndianMismatch);
                Assert.Equal(int.Parse(f["len"], CultureInfo.InvariantCulture), data.Body.Length);
                if (f.TryGetValue("body", out string? body))
                {
                    Assert.Equal(body, Encoding.Latin1.GetString(data.Body.Span));
                }
                else
                {
                    CheckLargeBody(data.Body.Span);
                }

                break;
            case MembershipMessage view:
                Assert.Equal(f["sender"], view.Group);
                Assert.Equal(groups, view.Members);
                Assert.Equal(int.Parse(f["mt"], CultureInfo.InvariantCulture), view.LocalIndex);
                Assert.Equal(f["gid"], view.GroupId.ToString());
                Assert.Equal(f["changed"], view.ChangedMember ?? string.Empty);
                Assert.Equal(int.Parse(f["num_vs"], CultureInfo.InvariantCulture), view.VsSets.Count);
                Assert.Equal(int.Parse(f["len"], CultureInfo.InvariantCulture), 20 + view.VsSets.Sum(s => 4 + (32 * s.Count)));
                if (view.Cause == MembershipCause.Network)
                {
                    // Heavyweight view: the vs-sets partition the members and the receiver's own set holds it.
                    Assert.Equal(view.Members.Order(StringComparer.Ordinal), view.VsSets.SelectMany(s => s).Order(StringComparer.Ordinal));
                    Assert.Contains(view.Members[view.LocalIndex], view.LocalVsSet);
                }
                else
                {
                    // Lightweight view: one vs-set holding only the changed member.
                    Assert.Equal([view.ChangedMember!], Assert.Single(view.VsSets));
                }
                break;
            case TransitionalMembershipMessage transitional:
                Assert.Equal(f["sender"], transitional.Group);
                Assert.Equal("0", f["ng"]);
                Assert.Equal("-1", f["mt"]);
                Assert.Equal("12", f["len"]);
                break;
            case SelfLeaveMessage selfLeave:
                Assert.Equal(f["sender"], selfLeave.Group);
                Assert.Equal("0", f["ng"]);
                Assert.Equal("0", f["len"]);
                break;
            default:
                Assert.Fail($"Unexpected {message.GetType().Name} for '{op}'.");
                break;
        }
    }

    // Scenario 08's bodies: byte[i] = i % 251.
    private static void CheckLargeBody(ReadOnlySpan<byte> body)
    {
        for (int i = 0; i < body.Length; i++)
        {
            if (body[i] != (byte)(i % 251))
            {
                Assert.Fail($"Large body differs at {i}.");
            }
        }
    }

    private static uint ParseHex(string text) => uint.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static Dictionary<string, string> Fields(string op)
    {
        var fields = new Dictionary<string, string>();
        int bodyAt = op.IndexOf(" body=", StringComparison.Ordinal);
        if (bodyAt >= 0)
        {
            fields["body"] = op[(bodyAt + 6)..];
            op = op[..bodyAt];
        }

        foreach (string token in op.Split(' '))
        {
            int eq = token.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && token[..eq] != "g")
            {
                fields[token[..eq]] = token[(eq + 1)..];
            }
        }

        return fields;
    }

    private static List<string> GroupValues(string op)
    {
        int bodyAt = op.IndexOf(" body=", StringComparison.Ordinal);
        string head = bodyAt >= 0 ? op[..bodyAt] : op;
        return [.. head.Split(' ').Where(t => t.StartsWith("g=", StringComparison.Ordinal)).Select(t => t[2..])];
    }

    public async ValueTask DisposeAsync()
    {
        foreach ((_, ScriptedDaemon daemon, GroupConnection? connection) in _all)
        {
            connection?.Abort();
            await daemon.DisposeAsync();
        }
    }

    [GeneratedRegex(@"^\[(?<client>[^\]]+)\] (?<rest>.*)$")]
    private static partial Regex LinePattern();

    [GeneratedRegex(@"^connect\((?<name>[^)]*)\) -> (?<rc>-?\d+) priv=(?<priv>\S*)$")]
    private static partial Regex ConnectPattern();

    private sealed record Session(GroupConnection Connection, Queue<SentFrame> Recorded);
}
