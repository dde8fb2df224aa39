using System.Buffers;

namespace Conclave.Client.Secure;

/// <summary>One event of a <see cref="SecureGroup"/>: a <see cref="SecureView"/>, a <see cref="SecureMessage"/> or <see cref="SecureLeft"/>.</summary>
public abstract class SecureEvent
{
    private protected SecureEvent(string group) => Group = group;

    /// <summary>Gets the secure group's name.</summary>
    public string Group { get; }
}

/// <summary>A secure view: the members, delivered only together with the key they all hold.</summary>
public sealed class SecureView : SecureEvent
{
    internal SecureView(string group, IReadOnlyList<string> members, string epoch, byte[] keyFingerprint)
        : this(group, members, epoch, keyFingerprint, new SecureViewChange([], [], [], []))
    {
    }

    internal SecureView(string group, IReadOnlyList<string> members, string epoch, byte[] keyFingerprint, SecureViewChange change)
        : base(group)
    {
        Members = members;
        Epoch = epoch;
        KeyFingerprint = keyFingerprint;
        Events = change.Events;
        Joined = change.Joined;
        Left = change.Left;
        Excluded = change.Excluded;
    }

    /// <summary>Gets the members' private groups.</summary>
    public IReadOnlyList<string> Members { get; }

    /// <summary>Gets the key's epoch, <c>view.run</c>.</summary>
    public string Epoch { get; }

    /// <summary>Gets 8 bytes of the key confirmation value, equal at every member: safe to show and compare.</summary>
    public IReadOnlyList<byte> KeyFingerprint { get; }

    /// <summary>Gets what changed the key, as the paper's Table 1 names it: e.g. <c>[Leave, Merge]</c> after a partition healed with a change.</summary>
    public IReadOnlyList<SecureKeyEvent> Events { get; }

    /// <summary>Gets the key holders that were not in the previous secure view.</summary>
    public IReadOnlyList<string> Joined { get; }

    /// <summary>Gets the key holders of the previous secure view that are gone.</summary>
    public IReadOnlyList<string> Left { get; }

    /// <summary>Gets the members of the group's view that the trust policy left out of the key (they cannot read it).</summary>
    public IReadOnlyList<string> Excluded { get; }
}

/// <summary>What changed between two secure views.</summary>
internal sealed record SecureViewChange(IReadOnlyList<SecureKeyEvent> Events, IReadOnlyList<string> Joined, IReadOnlyList<string> Left, IReadOnlyList<string> Excluded);

/// <summary>An application message, authenticated and decrypted under the current view's key.</summary>
/// <remarks>
/// Disposing a message matters only in a group with <see cref="SecureGroupOptions.PooledMessageBodies"/>: it returns
/// the body's buffer to the pool (cleared), after which <see cref="Body"/> is empty and memory taken from it before
/// must not be read. Otherwise the body is the message's own array and disposing does nothing.
/// </remarks>
public sealed class SecureMessage : SecureEvent, IDisposable
{
    private readonly int _length;
    private readonly bool _pooled;
    private byte[]? _buffer;

    internal SecureMessage(string group, string sender, short messageType, byte[] body)
        : this(group, sender, messageType, body, body.Length, pooled: false)
    {
    }

    /// <summary>A message whose body is the first <paramref name="length"/> bytes of <paramref name="buffer"/>, rented from <see cref="ArrayPool{T}.Shared"/> if <paramref name="pooled"/>.</summary>
    internal SecureMessage(string group, string sender, short messageType, byte[] buffer, int length, bool pooled)
        : base(group)
    {
        Sender = sender;
        MessageType = messageType;
        _buffer = buffer;
        _length = length;
        _pooled = pooled;
    }

    /// <summary>Gets the sender's private group.</summary>
    public string Sender { get; }

    /// <summary>Gets the application's message type.</summary>
    public short MessageType { get; }

    /// <summary>Gets the plaintext (empty once a pooled message was disposed).</summary>
    public ReadOnlyMemory<byte> Body => _buffer is byte[] buffer ? buffer.AsMemory(0, _length) : ReadOnlyMemory<byte>.Empty;

    /// <summary>Returns a pooled body's buffer to the pool, cleared; does nothing for a body of its own or a second time.</summary>
    public void Dispose()
    {
        // Cleared: the pool is the process's, and plaintext must not outlive the message in other users' buffers.
        if (_pooled && Interlocked.Exchange(ref _buffer, null) is byte[] buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }
}

/// <summary>This member's leave took effect.</summary>
public sealed class SecureLeft : SecureEvent
{
    internal SecureLeft(string group)
        : base(group)
    {
    }
}
