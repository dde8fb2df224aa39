namespace Conclave.Protocol.Groups;

/// <summary>
/// The virtual-synchrony sets of a network membership (ring-protocol.md §5.5): members that came
/// together from the same previous configuration share a set.
/// </summary>
internal static class VsSets
{
    /// <summary>
    /// Computes the sets and the index of the set holding <paramref name="localDaemonOrder"/>'s members.
    /// A <paramref name="lateJoiner"/> is taken out of its daemon's set and listed last on its own.
    /// </summary>
    public static (List<List<string>> Sets, int LocalIndex, int JoinerIndex) Compute(Group group, int localDaemonOrder, string? lateJoiner)
    {
        // Known MembIds first by wire pair, then daemon order; each partitioned daemon alone, last.
        var entries = group.Daemons.Values.ToList();
        entries.Sort(static (a, b) =>
        {
            if (a.MembId is { } x && b.MembId is { } y)
            {
                int byId = x.CompareTo(y);
                return byId != 0 ? byId : a.Order.CompareTo(b.Order);
            }

            if (a.MembId is null && b.MembId is null)
            {
                return a.Order.CompareTo(b.Order);
            }

            return a.MembId is null ? 1 : -1;
        });

        var sets = new List<List<string>>();
        int localIndex = -1;
        MembershipId? current = null;
        List<string>? set = null;
        foreach (DaemonEntry entry in entries)
        {
            bool startNew = set is null || entry.MembId is null || current is null || entry.MembId != current;
            if (startNew)
            {
                set = [];
                sets.Add(set);
                current = entry.MembId;
            }

            foreach (string member in entry.Members)
            {
                if (!string.Equals(member, lateJoiner, StringComparison.Ordinal))
                {
                    set!.Add(member);
                }
            }

            if (entry.Order == localDaemonOrder)
            {
                localIndex = sets.Count - 1;
            }
        }

        // A daemon whose only member is the late joiner leaves an empty set behind: drop it.
        for (int i = sets.Count - 1; i >= 0; i--)
        {
            if (sets[i].Count == 0)
            {
                sets.RemoveAt(i);
                if (localIndex > i)
                {
                    localIndex--;
                }
                else if (localIndex == i)
                {
                    localIndex = -1;
                }
            }
        }

        int joinerIndex = -1;
        if (lateJoiner is not null)
        {
            sets.Add([lateJoiner]);
            joinerIndex = sets.Count - 1;
        }

        return (sets, localIndex, joinerIndex);
    }
}
