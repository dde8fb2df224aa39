using System.Text;
using Conclave.Client.Flush;
using Conclave.Client.Tests.EndToEnd;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Flush;

/// <summary>Flush sessions against the in-process daemon: churn while sending, held sends, unicasts, disconnects.</summary>
public sealed class FlushEndToEndTests : FlushDaemonSessions
{
    public const string Group = "fg";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Members_joining_and_leaving_while_sending_keep_view_synchrony(bool autoFlushOk)
    {
        var options = new FlushOptions { AutoFlushOk = autoFlushOk };
        FlushMember a = await JoinAsync("a", options);
        await UntilAsync(() => a.HasView(a));
        FlushMember b = await JoinAsync("b", options);
        await UntilAsync(() => a.HasView(a, b) && b.HasView(a, b));

        Task sendA = SendManyAsync(a, 40);
        Task sendB = SendManyAsync(b, 40);
        FlushMember c = await JoinAsync("c", options);
        Task sendC = Task.Run(async () =>
        {
            await UntilAsync(() => c.LastView is not null);
            await SendManyAsync(c, 40);
        });
        await sendB;
        await b.Connection.LeaveAsync(Group, Token);
        FlushMember d = await JoinAsync("d", options);
        Task sendD = Task.Run(async () =>
        {
            await UntilAsync(() => d.LastView is not null);
            await SendManyAsync(d, 40);
        });
        await Task.WhenAll(sendA, sendC, sendD).WaitAsync(Token);

        // A last join closes the view the last messages were sent in.
        FlushMember e = await JoinAsync("e", options);
        await UntilAsync(() => b.LeftSelf && new[] { a, c, d, e }.All(m => m.HasView(a, c, d, e)));

        CheckViewSynchrony([a, b, c, d, e]);
        string[] everything = [.. new[] { a, b, c, d }.SelectMany(m => Enumerable.Range(0, 40).Select(i => $"{m.Private}|{m.Name}-{i}"))];
        Assert.Equal(everything.Order(StringComparer.Ordinal), a.Views.SelectMany(v => v.Delivered).Order(StringComparer.Ordinal));
        foreach (FlushMember sender in new[] { c, d })
        {
            Assert.Equal(40, sender.Views.SelectMany(v => v.Delivered).Count(x => x.StartsWith(sender.Private + "|", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task A_send_after_flush_ok_waits_for_the_next_view_and_is_delivered_in_it()
    {
        await using FlushConnection a = await FlushConnection.ConnectAsync(Daemon.TcpSpreadName, "a", null, Token);
        await a.JoinAsync(Group, Token);
        Assert.IsType<FlushView>(await a.ReceiveAsync(Token));
        FlushMember b = await JoinAsync("b", null);

        Assert.IsType<FlushRequest>(await a.ReceiveAsync(Token));
        await a.MulticastAsync(ServiceType.Fifo, Group, 3, Encoding.ASCII.GetBytes("before"), Token);
        await a.FlushOkAsync(Group, Token);

        // The view can only be installed by a's own receive, so the send is still held here.
        Task held = a.MulticastAsync(ServiceType.Fifo, Group, 3, Encoding.ASCII.GetBytes("held"), Token).AsTask();
        Assert.False(held.IsCompleted);
        Assert.IsType<FlushDataMessage>(await a.ReceiveAsync(Token));
        FlushView view = Assert.IsType<FlushView>(await a.ReceiveAsync(Token));
        Assert.Equal(2, view.Members.Count);
        await held.WaitAsync(Token);
        FlushDataMessage again = Assert.IsType<FlushDataMessage>(await a.ReceiveAsync(Token));
        Assert.Equal("held", Encoding.ASCII.GetString(again.Body.Span));

        await UntilAsync(() => b.Views.Sum(v => v.Delivered.Count) == 1);
        Assert.Equal(["#a#localhost|held"], b.Views[^1].Delivered);
    }

    [Fact]
    public async Task A_disconnect_is_a_transitional_change_with_the_leaver_as_vs_set()
    {
        FlushMember a = await JoinAsync("a", null);
        await UntilAsync(() => a.HasView(a));
        FlushMember b = await JoinAsync("b", null);
        await UntilAsync(() => a.HasView(a, b));
        FlushMember c = await JoinAsync("c", null);
        await UntilAsync(() => new[] { a, b, c }.All(m => m.HasView(a, b, c)));
        await c.SendAsync(ServiceType.Safe, "last-words");

        await c.Connection.DisconnectAsync(Token);
        await UntilAsync(() => a.HasView(a, b) && b.HasView(a, b));
        foreach (FlushMember m in new[] { a, b })
        {
            Assert.Equal(MembershipCause.Disconnect, m.LastView!.Cause);
            Assert.Equal([c.Private], m.LastView.VsSet);
            Assert.IsType<FlushTransitionalSignal>(m.Events[^2]);
            Assert.Equal(["#c#localhost|last-words"], m.Views[^2].Delivered);
        }

        await Assert.ThrowsAsync<SpreadException>(() => a.Connection.UnicastAsync(ServiceType.Agreed, Group, c.Private, 5, new byte[1], Token).AsTask());
        await Assert.ThrowsAsync<SpreadException>(() => a.Connection.MulticastAsync(ServiceType.Agreed, Group, -32766, new byte[1], Token).AsTask());
        await Assert.ThrowsAsync<SpreadException>(() => c.Connection.MulticastAsync(ServiceType.Agreed, Group, 1, new byte[1], Token).AsTask());
    }

    [Fact]
    public async Task Unicast_and_subgroupcast_go_through_the_daemon_to_their_receivers_only()
    {
        FlushMember a = await JoinAsync("a", null);
        await UntilAsync(() => a.HasView(a));
        FlushMember b = await JoinAsync("b", null);
        await UntilAsync(() => a.HasView(a, b));
        FlushMember c = await JoinAsync("c", null);
        await UntilAsync(() => new[] { a, b, c }.All(m => m.HasView(a, b, c)));

        await a.Connection.UnicastAsync(ServiceType.Agreed, Group, b.Private, 5, Encoding.UTF8.GetBytes("to-b"), Token);
        await a.Connection.SubgroupcastAsync(ServiceType.Agreed, Group, [b.Private, c.Private], 6, Encoding.UTF8.GetBytes("to-bc"), Token);
        await a.SendAsync(ServiceType.Agreed, "to-all");

        await UntilAsync(() => new[] { a, b, c }.All(m => m.Views[^1].Delivered.Contains("#a#localhost|to-all")));
        Assert.Equal(["#a#localhost|to-b", "#a#localhost|to-bc", "#a#localhost|to-all"], b.Views[^1].Delivered);
        Assert.Equal(["#a#localhost|to-bc", "#a#localhost|to-all"], c.Views[^1].Delivered);
        Assert.Equal(["#a#localhost|to-all"], a.Views[^1].Delivered);
    }

    internal static void CheckViewSynchrony(FlushMember[] members)
    {
        var membersOf = new Dictionary<GroupId, string>();
        var viewOf = new Dictionary<string, GroupId>();
        var moved = new Dictionary<(GroupId, GroupId), (string Who, List<string> Delivered)>();
        foreach (FlushMember m in members)
        {
            List<FlushMember.ViewLog> views = m.Views;
            for (int i = 0; i < views.Count; i++)
            {
                FlushView v = views[i].View;
                string list = string.Join(",", v.Members);
                Assert.True(membersOf.TryAdd(v.GroupId, list) || membersOf[v.GroupId] == list, $"view {v.GroupId} has different members at {m.Name}");
                foreach (string message in views[i].Delivered)
                {
                    Assert.True(viewOf.TryAdd(message, v.GroupId) || viewOf[message] == v.GroupId, $"{message} delivered in {viewOf[message]} and, at {m.Name}, in {v.GroupId}");
                }

                if (i > 0)
                {
                    (GroupId, GroupId) step = (views[i - 1].View.GroupId, v.GroupId);
                    List<string> delivered = views[i - 1].Delivered;
                    if (moved.TryGetValue(step, out var other))
                    {
                        Assert.True(
                            other.Delivered.Order(StringComparer.Ordinal).SequenceEqual(delivered.Order(StringComparer.Ordinal)),
                            $"{m.Name} and {other.Who} moved {step.Item1} -> {step.Item2} with {delivered.Count} vs {other.Delivered.Count} messages");
                    }
                    else
                    {
                        moved.Add(step, (m.Name, delivered));
                    }
                }
            }
        }
    }

    private async Task<FlushMember> JoinAsync(string name, FlushOptions? options)
    {
        FlushMember m = await ConnectAsync(name, options);
        await m.Connection.JoinAsync(Group, Token);
        return m;
    }

    private async Task SendManyAsync(FlushMember m, int count)
    {
        for (int i = 0; i < count; i++)
        {
            await m.SendAsync(i % 2 == 0 ? ServiceType.Fifo : ServiceType.Agreed, $"{m.Name}-{i}");
        }
    }
}
