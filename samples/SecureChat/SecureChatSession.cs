using System.Text;
using Conclave.Client;
using Conclave.Client.Secure;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Samples.SecureChat;

/// <summary>Where, who, which room, how to agree on keys and whom to trust; two conditions make it scriptable.</summary>
internal sealed record SecureChatOptions(
    string Daemon, string Name, string Group, KeyAgreementProtocol Protocol, string KeyFile, string TrustFile, int WaitMembers, int ExitAfter);

/// <summary>One secure chat member: input lines are sealed and sent once the view has a key; others' lines are opened and printed.</summary>
internal static class SecureChatSession
{
    public static async Task<int> RunAsync(SecureChatOptions options, TextReader input, TextWriter output, CancellationToken cancellationToken)
    {
        TextWriter console = TextWriter.Synchronized(output);
        using MemberIdentity identity = MemberKeyFile.Read(options.KeyFile);
        var secure = new SecureGroupOptions { Protocol = options.Protocol, Identity = identity, Directory = TrustFile.Read(options.TrustFile) };
        await using SecureGroup group = await SecureGroup.JoinAsync(options.Daemon, options.Name, options.Group, secure, cancellationToken);
        var room = new RoomState(options.WaitMembers, options.ExitAfter);
        using var stopReceiving = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task receiving = ReceiveAsync(group, room, console, stopReceiving.Token);

        while (await input.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            await room.EnoughMembers.WaitAsync(cancellationToken);
            await group.SendAsync(0, Encoding.UTF8.GetBytes(line), cancellationToken);
        }

        await room.EnoughReceived.WaitAsync(cancellationToken);
        await stopReceiving.CancelAsync();
        await receiving;
        SecureGroupCounters refused = group.Counters;
        await console.WriteLineAsync($"* leaving; refused: {refused.Replays} replays, {refused.Forged} forged, {refused.OtherEpoch} of other epochs, {refused.KeyAgreementRejected} key agreement messages");
        return 0;
    }

    private static async Task ReceiveAsync(SecureGroup group, RoomState room, TextWriter console, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                switch (await group.ReceiveAsync(cancellationToken))
                {
                    case SecureView view:
                        await console.WriteLineAsync($"* keyed view {view.Epoch} of {view.Members.Count}: {string.Join(", ", view.Members)}; key fingerprint {Convert.ToHexString([.. view.KeyFingerprint])}");
                        room.OnView(view.Members.Count);
                        break;
                    case SecureMessage message when message.Sender != group.PrivateGroup:
                        await console.WriteLineAsync($"<{message.Sender}> {Encoding.UTF8.GetString(message.Body.Span)}");
                        room.OnLineFromOthers();
                        break;
                    case SecureLeft:
                        return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Leaving: disposal disconnects.
        }
    }

    /// <summary>The two conditions scripts wait on: enough members in a keyed view, enough lines heard.</summary>
    private sealed class RoomState(int waitMembers, int exitAfter)
    {
        private readonly TaskCompletionSource _enoughMembers = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _enoughReceived = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _received;

        public Task EnoughMembers => _enoughMembers.Task;

        public Task EnoughReceived => exitAfter <= 0 ? Task.CompletedTask : _enoughReceived.Task;

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
    }
}
