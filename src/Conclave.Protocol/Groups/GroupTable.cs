using Conclave.Protocol.Spread;

namespace Conclave.Protocol.Groups;

/// <summary>
/// The lightweight process-group table of one daemon (ring-protocol.md §5), a sans-IO state machine.
/// </summary>
/// <remarks>
/// Every input comes from the ordering layer: messages in the total order (<see cref="Deliver"/>) and
/// daemon configuration changes (<see cref="OnTransitional"/>, <see cref="OnRegular"/>). Daemons that
/// saw the same prefix of the order hold identical tables, so every change is applied at the same
/// point everywhere. Iteration is only over sorted collections; nothing depends on time or hashing.
/// On one host a local sequencer drives it; across daemons, the ring does.
/// </remarks>
public sealed partial class GroupTable
{
    private readonly SortedDictionary<string, Group> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _daemonOrder;
    private readonly HashSet<string> _targets = new(StringComparer.Ordinal);
    private readonly int _selfOrder;

    /// <summary>Creates the table of daemon <paramref name="self"/> in its first regular configuration.</summary>
    /// <param name="self">This daemon's name.</param>
    /// <param name="configurationOrder">Every daemon's name in configuration-file order.</param>
    /// <param name="initialRegId">The configuration the daemon starts in (itself alone).</param>
    public GroupTable(string self, IReadOnlyList<string> configurationOrder, MembershipId initialRegId)
    {
        Self = self;
        _daemonOrder = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < configurationOrder.Count; i++)
        {
            _daemonOrder[configurationOrder[i]] = i;
        }

        if (!_daemonOrder.TryGetValue(self, out _selfOrder))
        {
            throw new ArgumentException($"Daemon '{self}' is not in the configuration.", nameof(configurationOrder));
        }

        RegId = initialRegId;
        TransId = initialRegId;
        RegMembers = [self];
        TransMembers = [self];
        _syncedSet = [self];
    }

    /// <summary>This daemon's name.</summary>
    public string Self { get; }

    /// <summary>Where the table stands with respect to configuration changes.</summary>
    public GroupLayerState State { get; private set; } = GroupLayerState.Operational;

    /// <summary>The current regular configuration's id.</summary>
    public MembershipId RegId { get; private set; }

    /// <summary>The last transitional configuration's id.</summary>
    public MembershipId TransId { get; private set; }

    /// <summary>The daemons of the current regular configuration.</summary>
    public IReadOnlyList<string> RegMembers { get; private set; }

    /// <summary>The daemons of the last transitional configuration.</summary>
    public IReadOnlyList<string> TransMembers { get; private set; }

    /// <summary>
    /// True while a state exchange runs: the host must hold client requests back until it ends and
    /// send only group-state messages (Spread's separate down-queue, ring-protocol.md §5.3 J6).
    /// </summary>
    public bool IsExchanging => State is GroupLayerState.Gathering or GroupLayerState.GatheringTransitional;

    /// <summary>Messages the table did not accept (unknown daemon, stale exchange, invariant breach).</summary>
    public long DroppedMessages { get; private set; }

    /// <summary>
    /// Client requests delivered during a state exchange (J6 broken by some daemon's ordering layer),
    /// dropped and counted: applying one to a table the exchange has not merged yet could not be made
    /// identical at every daemon. Also counted in <see cref="DroppedMessages"/>.
    /// </summary>
    public long RequestsDuringExchange { get; private set; }

    /// <summary>The last request counted in <see cref="RequestsDuringExchange"/>: kind, sender, groups and configuration (diagnostics), or null.</summary>
    public string? LastRequestDuringExchange { get; private set; }

    /// <summary>Number of groups.</summary>
    public int GroupCount => _groups.Count;

    /// <summary>Group names in order.</summary>
    public IEnumerable<string> GroupNames => _groups.Keys;

    /// <summary>A group's members in view order (daemon order, then name), or empty if it does not exist.</summary>
    public IReadOnlyList<string> MembersOf(string group) =>
        _groups.TryGetValue(group, out Group? g) ? g.Members() : [];

    /// <summary>A group's current id as clients see it, or null if it does not exist.</summary>
    public GroupId? GroupIdOf(string group) =>
        _groups.TryGetValue(group, out Group? g) ? new GroupId(g.MembId.ProcId, g.MembId.Time, g.Index) : null;

    /// <summary>Whether a group owes its members a network view (its Changed flag), false if it does not exist.</summary>
    public bool IsChanged(string group) => _groups.TryGetValue(group, out Group? g) && g.Changed;

    /// <summary>Applies one message of the total order.</summary>
    public void Deliver(GroupMessage message, IGroupTableOutput output)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(output);
        if (message.Kind == GroupMessageKind.Groups)
        {
            HandleGroupsState(message, output);
            return;
        }

        if (IsExchanging)
        {
            RequestsDuringExchange++;
            DroppedMessages++;
            LastRequestDuringExchange = $"{message.Kind} from {message.Sender} to [{string.Join(",", message.Groups)}] in {State} of {RegId}";
            return;
        }

        Apply(message, output);
    }

    private void Apply(GroupMessage message, IGroupTableOutput output)
    {
        switch (message.Kind)
        {
            case GroupMessageKind.Data:
                DeliverData(message, output);
                break;
            case GroupMessageKind.Join:
                HandleJoin(message, output);
                break;
            case GroupMessageKind.Leave:
                HandleLeave(message, output);
                break;
            case GroupMessageKind.Kill:
                HandleKill(message, output);
                break;
            default:
                DroppedMessages++;
                break;
        }
    }

    private void DeliverData(GroupMessage message, IGroupTableOutput output)
    {
        _targets.Clear();
        foreach (string name in message.Groups)
        {
            if (PrivateGroupName.IsPrivate(name))
            {
                if (PrivateGroupName.TryParse(name, out _, out string daemon) && string.Equals(daemon, Self, StringComparison.Ordinal))
                {
                    _targets.Add(name);
                }

                continue;
            }

            if (_groups.TryGetValue(name, out Group? group) && group.Find(_selfOrder) is { } local)
            {
                _targets.UnionWith(local.Members);
            }
        }

        if ((message.Service & ServiceType.SelfDiscard) != 0)
        {
            _targets.Remove(message.Sender);
        }

        foreach (string mailbox in _targets)
        {
            output.DeliverData(mailbox, message);
        }

        output.DataApplied(message, _targets);
    }

    private bool TryDaemonOf(string privateName, out string daemon, out int order)
    {
        order = -1;
        if (!PrivateGroupName.TryParse(privateName, out _, out daemon) || !_daemonOrder.TryGetValue(daemon, out order))
        {
            DroppedMessages++;
            return false;
        }

        return true;
    }

    private static GroupId IdOf(Group group) => new(group.MembId.ProcId, group.MembId.Time, group.Index);
}
