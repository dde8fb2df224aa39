using Conclave.Client.Flush;
using Conclave.Client.Tests.EndToEnd;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Flush;

/// <summary>The coordinator exchange against the in-process daemon: churn while sending, the coordinator itself leaving.</summary>
public sealed class FlushCoordinatedEndToEndTests : FlushDaemonSessions
{
    private const string Group = FlushEndToEndTests.Group;

    [Fact]
    public async Task Joins_and_the_coordinators_leave_while_sending_keep_view_synchrony()
    {
        var options = new FlushOptions { AutoFlushOk = true };
        FlushMember a = await JoinAsync("a", options);
        await UntilAsync(() => a.HasView(a));
        FlushMember b = await JoinAsync("b", options);
        FlushMember c = await JoinAsync("c", options);
        await UntilAsync(() => new[] { a, b, c }.All(m => m.HasView(a, b, c)));

        Task[] sends = [.. new[] { a, b, c }.Select(m => SendManyAsync(m, 30))];
        FlushMember d = await JoinAsync("d", options);

        // The first member of the view coordinates every flush: it leaves in the middle of the traffic.
        string first = a.LastView!.Members[0];
        FlushMember coordinator = new[] { a, b, c }.Single(m => m.Private == first);
        await sends[Array.IndexOf(new[] { a, b, c }, coordinator)];
        await coordinator.Connection.LeaveAsync(Group, Token);
        FlushMember e = await JoinAsync("e", options);
        await Task.WhenAll(sends).WaitAsync(Token);

        // A last join closes the view the last messages were sent in.
        FlushMember f = await JoinAsync("f", options);
        FlushMember[] stayed = [.. new[] { a, b, c, d, e, f }.Where(m => m != coordinator)];
        await UntilAsync(() => coordinator.LeftSelf && stayed.All(m => m.HasView(stayed)));

        FlushEndToEndTests.CheckViewSynchrony([a, b, c, d, e, f]);
        foreach (FlushMember m in stayed.Where(m => m is { Name: "a" or "b" or "c" }))
        {
            string[] expected = [.. new[] { a, b, c }.SelectMany(s => Enumerable.Range(0, 30).Select(i => $"{s.Private}|{s.Name}-{i}"))];
            Assert.Equal(expected.Order(StringComparer.Ordinal), m.Views.SelectMany(v => v.Delivered).Order(StringComparer.Ordinal));
        }

        Assert.All(Members, m => Assert.Equal(0, m.Connection.Coordination.Rejected));
        SpreadException weak = await Assert.ThrowsAsync<SpreadException>(() => stayed[0].Connection.MulticastAsync(ServiceType.Fifo, Group, 1, new byte[1], Token).AsTask());
        Assert.Equal(SpreadError.IllegalService, weak.Error);
    }

    private async Task<FlushMember> JoinAsync(string name, FlushOptions options)
    {
        FlushMember m = await ConnectAsync(name, options);
        await m.Connection.JoinAsync(Group, agreedOnly: true, coordinated: true, Token);
        return m;
    }

    private static async Task SendManyAsync(FlushMember m, int count)
    {
        for (int i = 0; i < count; i++)
        {
            await m.SendAsync(i % 2 == 0 ? ServiceType.Safe : ServiceType.Agreed, $"{m.Name}-{i}");
        }
    }
}
