using Conclave.Client;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Tests;

/// <summary>Services, memberships and delivery rules over real sockets, through the client library.</summary>
public sealed class DeliveryTests
{
    public static TheoryData<ServiceType> Services() =>
        [ServiceType.Unreliable, ServiceType.Reliable, ServiceType.Fifo, ServiceType.Causal, ServiceType.Agreed, ServiceType.Safe];

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Every_service_reaches_every_member_with_type_and_body(ServiceType service)
    {
        await using TestDaemon daemon = TestDaemon.Start();
        await using GroupConnection alice = await daemon.ConnectAsync("alice");
        await using GroupConnection bob = await daemon.ConnectAsync("bob");
        await alice.JoinAndWaitAsync("g");
        await bob.JoinAndWaitAsync("g");
        await alice.NextAsync<MembershipMessage>(); // bob's join, seen by alice

        await alice.MulticastAsync(service, "g", 42, new byte[] { 1, 2, 3 });

        foreach (GroupConnection member in new[] { alice, bob })
        {
            DataMessage data = await member.NextAsync<DataMessage>();
            Assert.Equal(service, data.Service);
            Assert.Equal("#alice#localhost", data.Sender);
            Assert.Equal(42, data.MessageType);
            Assert.Equal(new byte[] { 1, 2, 3 }, data.Body.ToArray());
        }
    }

    [Fact]
    public async Task Hundred_concurrent_clients_see_one_agreed_order()
    {
        await using TestDaemon daemon = TestDaemon.Start();
        var clients = new List<GroupConnection>();
        try
        {
            for (int i = 0; i < 100; i++)
            {
                GroupConnection client = await daemon.ConnectAsync($"c{i}", membership: false);
                await client.JoinAsync("crowd");
                clients.Add(client);
            }

            // A join sent on one session is not ordered before a send on another (each session's reader runs on
            // its own), so the observer waits for the view holding all 101 before its marker goes out.
            await using GroupConnection observer = await daemon.ConnectAsync("observer", membership: true);
            await observer.JoinAsync("crowd");
            while ((await observer.NextAsync<MembershipMessage>()).Members.Count < clients.Count + 1)
            {
            }

            await observer.MulticastAsync(ServiceType.Agreed, "crowd", 0, new byte[] { 0 });
            foreach (GroupConnection client in clients)
            {
                await client.NextAsync<DataMessage>();
            }

            await Task.WhenAll(clients.Select((c, i) => c.MulticastAsync(ServiceType.Agreed, "crowd", (short)i, BitConverter.GetBytes(i)).AsTask()));

            List<string>? reference = null;
            foreach (GroupConnection client in clients)
            {
                var order = new List<string>();
                for (int m = 0; m < 100; m++)
                {
                    order.Add((await client.NextAsync<DataMessage>()).Sender);
                }

                Assert.Equal(100, order.Distinct().Count());
                reference ??= order;
                Assert.Equal(reference, order);
            }
        }
        finally
        {
            foreach (GroupConnection client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_message_of_the_maximum_size_arrives_whole()
    {
        await using TestDaemon daemon = TestDaemon.Start();
        await using GroupConnection alice = await daemon.ConnectAsync("alice");
        await using GroupConnection bob = await daemon.ConnectAsync("bob");
        await alice.JoinAndWaitAsync("big");
        await bob.JoinAndWaitAsync("big");
        byte[] body = new byte[SpreadLimits.MaxMessageBodyLength - SpreadLimits.HeaderSize - SpreadLimits.GroupNameSize];
        for (int i = 0; i < body.Length; i++)
        {
            body[i] = (byte)(i % 251);
        }

        // Alice sends the whole message before reading anything: the daemon must not deadlock with her.
        await alice.MulticastAsync(ServiceType.Agreed, "big", 1, body);

        DataMessage atBob = await bob.NextAsync<DataMessage>();
        Assert.True(atBob.Body.Span.SequenceEqual(body));
        await alice.NextAsync<MembershipMessage>();
        DataMessage atAlice = await alice.NextAsync<DataMessage>();
        Assert.Equal(body.Length, atAlice.Body.Length);
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_disconnected_and_nobody_else_stalls()
    {
        await using TestDaemon daemon = TestDaemon.Start(o => o with { MaxSessionMessages = 200 });
        await using GroupConnection sender = await daemon.ConnectAsync("sender");
        await using GroupConnection reader = await daemon.ConnectAsync("reader", membership: false);
        await using GroupConnection sleeper = await daemon.ConnectAsync("sleeper", membership: false);
        await sender.JoinAndWaitAsync("g");
        await reader.JoinAsync("g");
        await sleeper.JoinAsync("g"); // never reads again
        await sender.NextAsync<MembershipMessage>();
        await sender.NextAsync<MembershipMessage>();

        // Bursts the reader keeps up with: only the sleeper falls behind.
        byte[] body = new byte[4096];
        for (int burst = 0; burst < 50; burst++)
        {
            for (int i = 0; i < 100; i++)
            {
                await sender.MulticastAsync(ServiceType.Fifo | ServiceType.SelfDiscard, "g", (short)i, body);
            }

            for (int i = 0; i < 100; i++)
            {
                Assert.Equal(i, (await reader.NextAsync<DataMessage>()).MessageType);
            }
        }

        MembershipMessage gone = await sender.NextAsync<MembershipMessage>();
        Assert.Equal(MembershipCause.Disconnect, gone.Cause);
        Assert.Equal("#sleeper#localhost", gone.ChangedMember);
        Assert.Equal(1, daemon.Daemon.Statistics.SlowReadersDisconnected);
    }

    [Fact]
    public async Task Private_group_unicast_reaches_only_that_session()
    {
        await using TestDaemon daemon = TestDaemon.Start();
        await using GroupConnection alice = await daemon.ConnectAsync("alice");
        await using GroupConnection bob = await daemon.ConnectAsync("bob");
        await using GroupConnection carol = await daemon.ConnectAsync("carol");

        await alice.MulticastAsync(ServiceType.Reliable, "#bob#localhost", 3, new byte[] { 9 });
        await alice.MulticastAsync(ServiceType.Reliable, "#carol#localhost", 4, new byte[] { 8 });

        DataMessage atBob = await bob.NextAsync<DataMessage>();
        Assert.Equal(3, atBob.MessageType);
        DataMessage atCarol = await carol.NextAsync<DataMessage>();
        Assert.Equal(4, atCarol.MessageType);
    }
}
