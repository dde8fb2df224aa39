using Conclave.Client.Secure;
using Conclave.Client.Secure.Internal;

namespace Conclave.Daemon.Tests.Secure;

/// <summary>Waits and checks for secure members: one key per component's view, and what a key can open.</summary>
internal static class SecureConvergence
{
    /// <summary>
    /// Waits until the members of each component hold a secure view of exactly that component, all with the same
    /// epoch and key fingerprint; fails after the patience with every member's state.
    /// </summary>
    public static Task OneKeyPerComponentAsync(string what, params SecureMember[][] components) =>
        UntilAsync(() => components.All(Converged), [.. components.SelectMany(c => c)], what);

    /// <summary>Waits until every one of <paramref name="members"/> was delivered <paramref name="text"/>.</summary>
    public static Task DeliveredAsync(IReadOnlyList<SecureMember> members, string text) =>
        UntilAsync(() => members.All(m => m.Texts.Contains(text)), members, $"{text} delivered");

    /// <summary>Waits, event by event of <paramref name="members"/>, until <paramref name="condition"/> holds; fails after the patience.</summary>
    public static async Task UntilAsync(Func<bool> condition, IReadOnlyList<SecureMember> members, string what)
    {
        using var patience = new CancellationTokenSource(ClientSessions.Patience);
        while (true)
        {
            // The signals are taken before the condition is checked, so an event in between is not missed.
            Task[] next = [.. members.Select(m => m.NextEvent)];
            if (condition())
            {
                return;
            }

            try
            {
                await Task.WhenAny(next).WaitAsync(patience.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"waiting for {what}: {Describe(members)}");
            }
        }
    }

    /// <summary>One line per member: its last secure view's members, epoch and fingerprint.</summary>
    public static string Describe(IEnumerable<SecureMember> members) =>
        string.Join("; ", members.Select(m => m.LastView is { } v
            ? $"{m.Name}: [{string.Join(",", v.Members)}] {v.Epoch} {Convert.ToHexString([.. v.KeyFingerprint])}{(m.Closed ? " closed" : "")}"
            : $"{m.Name}: no view"));

    /// <summary>True if <paramref name="cipher"/> authenticates and decrypts <paramref name="wire"/> as <paramref name="sender"/>'s message to <paramref name="group"/>.</summary>
    public static bool TryOpen(EpochCipher cipher, byte[] wire, string group, string sender)
    {
        if (!SealedFormat.TryReadHeader(wire, out SealedFormat.Header header) || wire.Length < SealedFormat.HeaderSize + EpochCipher.TagSize)
        {
            return false;
        }

        var plaintext = new byte[wire.Length - SealedFormat.HeaderSize - EpochCipher.TagSize];
        byte[] ad = SealedFormat.AssociatedData(wire.AsSpan(0, SealedFormat.HeaderSize), group, sender);
        return cipher.TryOpen(sender, header.Sequence, wire.AsSpan(SealedFormat.HeaderSize, plaintext.Length), wire.AsSpan(wire.Length - EpochCipher.TagSize), plaintext, ad);
    }

    private static bool Converged(SecureMember[] component)
    {
        string[] names = [.. component.Select(m => m.Name)];
        SecureView? first = component[0].LastView;
        return first is not null && component.All(m => m.IsKeyedFor(names)
            && m.LastView is { } v && v.Epoch == first.Epoch && v.KeyFingerprint.SequenceEqual(first.KeyFingerprint));
    }
}
