namespace Conclave.Protocol.Groups;

/// <summary>
/// A synced set's group table, multicast by its leader after a merge (ring-protocol.md §5.4 N4).
/// This implementation sends the whole table in one Agreed message; the ring fragments it if needed.
/// </summary>
/// <param name="RegId">The regular configuration the exchange belongs to; stale ones are dropped.</param>
/// <param name="SyncedSet">The daemons whose state this message represents, in configuration order.</param>
/// <param name="Groups">Every group the synced set knows, by name.</param>
public sealed record GroupsStateMessage(MembershipId RegId, IReadOnlyList<string> SyncedSet, IReadOnlyList<GroupState> Groups);

/// <summary>One group as a leader reports it.</summary>
public sealed record GroupState(string Name, MembershipId MembId, int Index, bool Changed, IReadOnlyList<DaemonState> Daemons);

/// <summary>One daemon's part of a group: its members and the configuration they are known under.</summary>
public sealed record DaemonState(string Daemon, MembershipId? MembId, IReadOnlyList<string> Members);
