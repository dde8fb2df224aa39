using Conclave.Client;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>Three real `conclave daemon` processes on 127.0.0.1/.2/.3 forming a ring over sealed UDP.</summary>
public sealed class MultiDaemonProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("conclave-ring-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string TraceOf(int i) => Path.Combine(_dir, $"trace-d{i}.jsonl");

    private Task<RingDaemonProcess> Start(string conf, int i) =>
        RingDaemonProcess.StartAsync(conf, $"d{i}", $"127.0.0.{i}", Path.Combine(_dir, $"state-d{i}"), "--trace", TraceOf(i));

    /// <summary>Reads until a message of type <typeparamref name="T"/> satisfying <paramref name="match"/> arrives.</summary>
    private static async Task<T> ReceiveUntil<T>(GroupConnection connection, Func<T, bool> match, List<SpreadMessage>? seen = null)
        where T : SpreadMessage
    {
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        while (true)
        {
            SpreadMessage message = await connection.ReceiveAsync(timeout.Token);
            seen?.Add(message);
            if (message is T typed && match(typed))
            {
                return typed;
            }
        }
    }

    [Fact]
    public async Task Members_on_three_daemons_agree_then_survive_a_kill_and_merge_with_the_restart()
    {
        string conf = RingTestConfiguration.Loopback(_dir);
        await using RingDaemonProcess d1 = await Start(conf, 1);
        await using RingDaemonProcess d2 = await Start(conf, 2);
        RingDaemonProcess d3 = await Start(conf, 3);
        try
        {
            await Task.WhenAll(d1.WaitForRegularAsync("d1", "d2", "d3"), d2.WaitForRegularAsync("d1", "d2", "d3"), d3.WaitForRegularAsync("d1", "d2", "d3"));

            await using GroupConnection alice = await GroupConnection.ConnectAsync(d1.SpreadName, "alice", true);
            await using GroupConnection bob = await GroupConnection.ConnectAsync(d2.SpreadName, "bob", true);
            GroupConnection carol = await GroupConnection.ConnectAsync(d3.SpreadName, "carol", true);
            GroupConnection[] all = [alice, bob, carol];
            foreach (GroupConnection member in all)
            {
                await member.JoinAsync("g");
            }

            foreach (GroupConnection member in all)
            {
                MembershipMessage view = await ReceiveUntil<MembershipMessage>(member, m => m.Members.Count == 3);
                Assert.Equal(["#alice#d1", "#bob#d2", "#carol#d3"], view.Members);
            }

            // One agreed order across daemons.
            for (int i = 0; i < 5; i++)
            {
                foreach (GroupConnection member in all)
                {
                    await member.MulticastAsync(ServiceType.Agreed, "g", (short)i, new byte[] { (byte)i });
                }
            }

            var orders = new List<List<string>>();
            foreach (GroupConnection member in all)
            {
                var order = new List<string>();
                while (order.Count < 15)
                {
                    DataMessage data = await ReceiveUntil<DataMessage>(member, _ => true);
                    order.Add($"{data.Sender}:{data.MessageType}");
                }

                orders.Add(order);
            }

            Assert.Equal(orders[0], orders[1]);
            Assert.Equal(orders[0], orders[2]);

            // kill -9 of d3: the survivors see TRANSITION_MESS, then CAUSED_BY_NETWORK without carol.
            d3.Kill();
            await d3.DisposeAsync();
            RingTraces.RecordCrash(TraceOf(3));
            foreach (GroupConnection survivor in new[] { alice, bob })
            {
                var seen = new List<SpreadMessage>();
                MembershipMessage network = await ReceiveUntil<MembershipMessage>(survivor, m => m.Cause == MembershipCause.Network, seen);
                Assert.IsType<TransitionalMembershipMessage>(seen[^2]);
                Assert.Equal(["#alice#d1", "#bob#d2"], network.Members);
                IReadOnlyList<string> vsSet = Assert.Single(network.VsSets);
                Assert.Equal(["#alice#d1", "#bob#d2"], vsSet);
            }

            await Task.WhenAll(d1.WaitForRegularAsync("d1", "d2"), d2.WaitForRegularAsync("d1", "d2"));

            // Restart d3: the ring merges and carol's new session is seen by everyone.
            d3 = await Start(conf, 3);
            await Task.WhenAll(d1.WaitForRegularAsync("d1", "d2", "d3"), d3.WaitForRegularAsync("d1", "d2", "d3"));
            carol = await GroupConnection.ConnectAsync(d3.SpreadName, "carol", true);
            await carol.JoinAsync("g");
            foreach (GroupConnection member in new[] { alice, bob, carol })
            {
                MembershipMessage view = await ReceiveUntil<MembershipMessage>(member, m => m.Members.Count == 3);
                Assert.Equal(["#alice#d1", "#bob#d2", "#carol#d3"], view.Members);
            }

            await carol.MulticastAsync(ServiceType.Agreed, "g", 99, new byte[] { 9 });
            foreach (GroupConnection member in new[] { alice, bob, carol })
            {
                Assert.Equal("#carol#d3", (await ReceiveUntil<DataMessage>(member, m => m.MessageType == 99)).Sender);
            }

            // The real traces (d3's two incarnations, its crash recorded by the test) pass the EVS checker.
            string[] traces = [TraceOf(1), TraceOf(2), TraceOf(3)];
            await RingTraces.WaitForLastSendDeliveredAsync(traces);
            IReadOnlyList<Protocol.Tracing.Violation> violations = RingTraces.CheckHealed(traces, out int events);
            Assert.True(events > 50, $"only {events} trace events recorded");
            Assert.True(violations.Count == 0, string.Join("\n", violations));
            Assert.Contains(RingTraces.CheckHealed(traces, out _, m => RingTraces.SwapLastTwoDeliveriesOfNode(m, 1)), v => v.Property == "P7a");
            await carol.DisposeAsync();
        }
        finally
        {
            await d3.DisposeAsync();
        }
    }
}
