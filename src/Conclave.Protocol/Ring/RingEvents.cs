namespace Conclave.Protocol.Ring;

/// <summary>Kind of a configuration (ring-protocol.md §1.2).</summary>
public enum ConfKind : byte
{
    /// <summary>A regular configuration.</summary>
    Regular = 1,
    /// <summary>A transitional configuration.</summary>
    Transitional = 2,
}

/// <summary>
/// Identifies a configuration. A regular one is named by its ring id (<see cref="Old"/> is default);
/// a transitional one by the pair (new ring, old ring), unique even when several rings merge.
/// </summary>
public readonly record struct ConfId(ConfKind Kind, RingId Ring, RingId Old)
{
    /// <summary>The regular configuration of <paramref name="ring"/>.</summary>
    public static ConfId Reg(RingId ring) => new(ConfKind.Regular, ring, default);

    /// <summary>The transitional configuration from <paramref name="old"/> to <paramref name="ring"/>.</summary>
    public static ConfId Trans(RingId ring, RingId old) => new(ConfKind.Transitional, ring, old);

    /// <summary>Formats as <c>R(rep:seq)</c> or <c>T(rep:seq&lt;-rep:seq)</c>.</summary>
    public override string ToString() => Kind == ConfKind.Regular ? $"R({Ring})" : $"T({Ring}<-{Old})";
}

/// <summary>Identity of an application message: originator, its incarnation and a per-incarnation counter.</summary>
public readonly record struct MessageId(uint Node, ulong Incarnation, ulong Counter)
{
    /// <summary>Formats as <c>node.incarnation.counter</c>.</summary>
    public override string ToString() => $"{Node}.{Incarnation}.{Counter}";
}

/// <summary>An item of the ring's delivery stream, consumed by the group layer.</summary>
public abstract record RingDelivery;

/// <summary>A message delivered in total order.</summary>
/// <param name="Id">Message identity (originator, incarnation, counter).</param>
/// <param name="Service">Requested service.</param>
/// <param name="Ring">Ring in which the message was sequenced.</param>
/// <param name="Seq">Its position in that ring's order.</param>
/// <param name="Conf">The configuration in which it is delivered.</param>
/// <param name="Payload">Opaque payload bytes.</param>
public sealed record RingMessage(MessageId Id, RingService Service, RingId Ring, ulong Seq, ConfId Conf, byte[] Payload) : RingDelivery;

/// <summary>A configuration change: a transitional configuration, then a regular one (§1.2).</summary>
/// <param name="Id">Configuration id.</param>
/// <param name="Members">Members, sorted ascending.</param>
/// <param name="Left">For a transitional configuration: previous members that are not in it.</param>
/// <param name="Joined">For a regular configuration: members that did not come through its transitional configuration.</param>
public sealed record RingConfiguration(ConfId Id, uint[] Members, uint[] Left, uint[] Joined) : RingDelivery;
