using System.Text;
using Conclave.Client.Flush;
using Conclave.Client.Tests.Conformance;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Flush;

/// <summary>
/// Scenario 11 (the real Spread Flush library) replayed from the daemon's side: driven as the recorded
/// program drove FL_*, each client must send exactly the recorded bytes, FLUSH_OK and FLUSH_RECV included.
/// </summary>
public sealed class FlushTranscriptReplayTests
{
    private const string Group = "fg";

    public static TheoryData<int?> Fragmentations() => new() { null, 1, 4242 };

    [Theory]
    [MemberData(nameof(Fragmentations))]
    public async Task Alice_sends_the_recorded_flush_messages(int? fragmentSeed)
    {
        await ReplayAsync("alice", fragmentSeed, async c =>
        {
            await c.JoinAsync(Group);
            AssertView(await c.ReceiveAsync(), MembershipCause.Join, "#alice#localhost");
            await FlushAsync(c);
            AssertView(await c.ReceiveAsync(), MembershipCause.Join, "#alice#localhost", "#bob#localhost");
            await c.MulticastAsync(ServiceType.Agreed, Group, 7, Encoding.ASCII.GetBytes("hello-from-alice"));
            AssertData(await c.ReceiveAsync(), "#alice#localhost", "hello-from-alice");
            await FlushAsync(c);
            AssertView(await c.ReceiveAsync(), MembershipCause.Join, "#alice#localhost", "#bob#localhost", "#carol#localhost");
            AssertData(await c.ReceiveAsync(), "#carol#localhost", "hello-from-carol");
            await FlushAsync(c);
            Assert.IsType<FlushTransitionalSignal>(await c.ReceiveAsync());
            AssertView(await c.ReceiveAsync(), MembershipCause.Leave, "#alice#localhost", "#carol#localhost");
        });
    }

    [Theory]
    [MemberData(nameof(Fragmentations))]
    public async Task Bob_sends_the_recorded_flush_messages(int? fragmentSeed)
    {
        await ReplayAsync("bob", fragmentSeed, async c =>
        {
            await c.JoinAsync(Group);
            AssertView(await c.ReceiveAsync(), MembershipCause.Join, "#alice#localhost", "#bob#localhost");
            AssertData(await c.ReceiveAsync(), "#alice#localhost", "hello-from-alice");
            await FlushAsync(c);
            AssertView(await c.ReceiveAsync(), MembershipCause.Join, "#alice#localhost", "#bob#localhost", "#carol#localhost");
            AssertData(await c.ReceiveAsync(), "#carol#localhost", "hello-from-carol");
            await c.LeaveAsync(Group);
            Assert.IsType<FlushSelfLeave>(await c.ReceiveAsync());
        });
    }

    [Theory]
    [MemberData(nameof(Fragmentations))]
    public async Task Carol_sends_the_recorded_flush_messages(int? fragmentSeed)
    {
        await ReplayAsync("carol", fragmentSeed, async c =>
        {
            await c.JoinAsync(Group);
            AssertView(await c.ReceiveAsync(), MembershipCause.Join, "#alice#localhost", "#bob#localhost", "#carol#localhost");
            await c.MulticastAsync(ServiceType.Agreed, Group, 7, Encoding.ASCII.GetBytes("hello-from-carol"));
            AssertData(await c.ReceiveAsync(), "#carol#localhost", "hello-from-carol");
            await FlushAsync(c);
            Assert.IsType<FlushTransitionalSignal>(await c.ReceiveAsync());
            AssertView(await c.ReceiveAsync(), MembershipCause.Leave, "#alice#localhost", "#carol#localhost");
            await FlushAsync(c);
            Assert.IsType<FlushTransitionalSignal>(await c.ReceiveAsync());
            FlushView last = AssertView(await c.ReceiveAsync(), MembershipCause.Disconnect, "#carol#localhost");
            Assert.Equal(["#alice#localhost"], last.VsSet);
        });
    }

    private static async Task ReplayAsync(string label, int? fragmentSeed, Func<FlushConnection, Task> script)
    {
        using var hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        Transcript transcript = Transcript.Load("11_flush_library.json");
        TranscriptStream stream = transcript.Stream(label);
        await using var daemon = new ScriptedDaemon(stream, fragmentSeed, hangGuard.Token);
        await using (FlushConnection connection = await FlushConnection.ConnectAsync(daemon.SpreadName, label, cancellationToken: hangGuard.Token))
        {
            await script(connection).WaitAsync(hangGuard.Token);
            await connection.DisconnectAsync(hangGuard.Token);
        }

        byte[] actual = await daemon.Completion.WaitAsync(hangGuard.Token);
        byte[] expected = ClientStream.NormaliseNameFields(stream.ClientBytes);
        Assert.True(
            expected.AsSpan().SequenceEqual(actual),
            $"11/{label}: client bytes differ from the recording at offset {expected.AsSpan().CommonPrefixLength(actual)} (expected {expected.Length} bytes, sent {actual.Length}).");
    }

    private static async Task FlushAsync(FlushConnection c)
    {
        FlushEvent e = await c.ReceiveAsync();
        Assert.IsType<FlushRequest>(e);
        await c.FlushOkAsync(e.Group);
    }

    private static FlushView AssertView(FlushEvent e, MembershipCause cause, params string[] members)
    {
        FlushView view = Assert.IsType<FlushView>(e);
        Assert.Equal(cause, view.Cause);
        Assert.Equal(members, view.Members);
        return view;
    }

    private static void AssertData(FlushEvent e, string sender, string text)
    {
        FlushDataMessage data = Assert.IsType<FlushDataMessage>(e);
        Assert.Equal(sender, data.Sender);
        Assert.Equal(7, data.MessageType);
        Assert.Equal(text, Encoding.ASCII.GetString(data.Body.Span));
    }
}
