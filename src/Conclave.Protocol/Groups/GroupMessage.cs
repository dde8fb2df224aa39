using Conclave.Protocol.Spread;

namespace Conclave.Protocol.Groups;

/// <summary>What a message carried on the ordering layer asks the group layer to do (ring-protocol.md §5.1).</summary>
public enum GroupMessageKind : byte
{
    /// <summary>Application data to groups and/or private groups.</summary>
    Data = 1,
    /// <summary>A session joins a group.</summary>
    Join = 2,
    /// <summary>A session leaves a group.</summary>
    Leave = 3,
    /// <summary>A session disconnected: it leaves every group.</summary>
    Kill = 4,
    /// <summary>Group-state exchange after a daemon configuration change.</summary>
    Groups = 5,
}

/// <summary>
/// One message in the total order that drives the group table: a client's data, join, leave or
/// disconnect, or a daemon's group-state message.
/// </summary>
public sealed class GroupMessage
{
    private GroupMessage(GroupMessageKind kind, string sender, IReadOnlyList<string> groups)
    {
        Kind = kind;
        Sender = sender;
        Groups = groups;
    }

    /// <summary>What the message asks for.</summary>
    public GroupMessageKind Kind { get; }

    /// <summary>The sending session's private group name <c>#user#daemon</c> (the daemon's name for Groups).</summary>
    public string Sender { get; }

    /// <summary>Destination groups (Data) or the single group (Join, Leave).</summary>
    public IReadOnlyList<string> Groups { get; }

    /// <summary>The client's type word for Data: one service bit, perhaps SELF_DISCARD.</summary>
    public ServiceType Service { get; private init; }

    /// <summary>
    /// For Data: the frame to deliver to clients, exactly as the daemon will write it
    /// (header ‖ names ‖ body, normalised to little-endian, the sender's hint untouched).
    /// </summary>
    public ReadOnlyMemory<byte> Frame { get; private init; }

    /// <summary>For Groups: the state a daemon reports during the exchange.</summary>
    public GroupsStateMessage? State { get; private init; }

    /// <summary>A data message; <paramref name="frame"/> is the frame clients receive.</summary>
    public static GroupMessage Data(string sender, IReadOnlyList<string> groups, ServiceType service, ReadOnlyMemory<byte> frame) =>
        new(GroupMessageKind.Data, sender, groups) { Service = service, Frame = frame };

    /// <summary>A join of <paramref name="group"/> by the session <paramref name="sender"/>.</summary>
    public static GroupMessage Join(string sender, string group) => new(GroupMessageKind.Join, sender, [group]);

    /// <summary>A leave of <paramref name="group"/> by the session <paramref name="sender"/>.</summary>
    public static GroupMessage Leave(string sender, string group) => new(GroupMessageKind.Leave, sender, [group]);

    /// <summary>The session <paramref name="sender"/> disconnected.</summary>
    public static GroupMessage Kill(string sender) => new(GroupMessageKind.Kill, sender, []);

    /// <summary>A daemon's group-state message for the exchange.</summary>
    public static GroupMessage GroupsState(string daemon, GroupsStateMessage state) =>
        new(GroupMessageKind.Groups, daemon, []) { State = state };
}
