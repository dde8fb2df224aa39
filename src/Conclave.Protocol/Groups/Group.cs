namespace Conclave.Protocol.Groups;

/// <summary>One lightweight group in the table (ring-protocol.md §5.2).</summary>
internal sealed class Group(string name, MembershipId membId, int index)
{
    public string Name { get; } = name;

    /// <summary>The configuration part of the group id.</summary>
    public MembershipId MembId { get; set; } = membId;

    /// <summary>The per-group counter part of the group id.</summary>
    public int Index { get; set; } = index;

    /// <summary>True while a daemon configuration change touched the group and its network view is pending.</summary>
    public bool Changed { get; set; }

    /// <summary>
    /// True from a TRANSITION_MESS to the next regular membership: clients get at most one
    /// transitional signal between two views (G-P2).
    /// </summary>
    public bool TransitionSent { get; set; }

    /// <summary>Daemon entries by configuration order.</summary>
    public SortedList<int, DaemonEntry> Daemons { get; } = [];

    public bool IsEmpty => Daemons.Count == 0;

    public DaemonEntry? Find(int order) => Daemons.GetValueOrDefault(order);

    public bool Contains(string member, int daemonOrder) => Find(daemonOrder)?.Members.Contains(member) == true;

    /// <summary>All members: by daemon order, then by name.</summary>
    public List<string> Members()
    {
        var members = new List<string>();
        foreach (DaemonEntry entry in Daemons.Values)
        {
            members.AddRange(entry.Members);
        }

        return members;
    }
}

/// <summary>One daemon's members of one group and the configuration they are known under.</summary>
internal sealed class DaemonEntry(string daemon, int order, MembershipId? membId)
{
    public string Daemon { get; } = daemon;

    public int Order { get; } = order;

    /// <summary>Null means "partitioned from me".</summary>
    public MembershipId? MembId { get; set; } = membId;

    /// <summary>Members by ordinal name order (strcmp, as Spread).</summary>
    public SortedSet<string> Members { get; } = new(StringComparer.Ordinal);
}
