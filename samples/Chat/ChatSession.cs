using System.Text;
using Conclave.Client;
using Conclave.Protocol.Spread;

namespace Conclave.Samples.Chat;

/// <summary>What the chat needs to know: where, who, which room, and two conditions that make it scriptable.</summary>
internal sealed record ChatOptions(string Daemon, string Name, string Group, int WaitMembers, int ExitAfter);

/// <summary>One chat participant: input lines go out, the room's lines and membership changes come in.</summary>
internal static class ChatSession
{
    public static async Task<int> RunAsync(ChatOptions options, TextReader input, TextWriter output, CancellationToken cancellationToken)
    {
        TextWriter console = TextWriter.Synchronized(output);
        await using GroupConnection connection = await GroupConnection.ConnectAsync(options.Daemon, options.Name, groupMembership: true, cancellationToken);
        var room = new RoomState(options.WaitMembers, options.ExitAfter);
        await connection.JoinAsync(options.Group, cancellationToken);
        Task receiving = ReceiveAsync(connection, options.Group, room, console, cancellationToken);

        while (await input.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            await room.EnoughMembers.WaitAsync(cancellationToken);
            await connection.MulticastAsync(ServiceType.Agreed, options.Group, 0, Encoding.UTF8.GetBytes(line), cancellationToken);
        }

        await room.EnoughReceived.WaitAsync(cancellationToken);
        await connection.DisconnectAsync(cancellationToken); // ends the receive loop
        await receiving;
        return 0;
    }

    private static async Task ReceiveAsync(GroupConnection connection, string group, RoomState room, TextWriter console, CancellationToken cancellationToken)
    {
        await foreach (SpreadMessage message in connection.ReadAllAsync(cancellationToken))
        {
            switch (message)
            {
                case MembershipMessage view when view.Group == group:
                    string who = view.ChangedMember == connection.PrivateGroup ? "you" : view.ChangedMember ?? "the network";
                    await console.WriteLineAsync($"* {who}: {view.Cause.ToString().ToUpperInvariant()} -> {view.Members.Count} in {group}: {string.Join(", ", view.Members)}");
                    room.OnView(view.Members.Count);
                    break;
                case DataMessage data when data.Sender != connection.PrivateGroup:
                    await console.WriteLineAsync($"<{data.Sender}> {Encoding.UTF8.GetString(data.Body.Span)}");
                    room.OnLineFromOthers();
                    break;
            }
        }
    }

    /// <summary>The two conditions scripts wait on: enough members to talk to, enough lines heard.</summary>
    private sealed class RoomState(int waitMembers, int exitAfter)
    {
        private readonly TaskCompletionSource _enoughMembers = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _enoughReceived = NewDoneIf(exitAfter <= 0);
        private int _received;

        public Task EnoughMembers => _enoughMembers.Task;

        public Task EnoughReceived => _enoughReceived.Task;

        public void OnView(int members)
        {
            if (members >= waitMembers)
            {
                _enoughMembers.TrySetResult();
            }
        }

        public void OnLineFromOthers()
        {
            if (++_received >= exitAfter)
            {
                _enoughReceived.TrySetResult();
            }
        }

        private static TaskCompletionSource NewDoneIf(bool done)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (done)
            {
                signal.SetResult();
            }

            return signal;
        }
    }
}
