using Conclave.Client;

namespace Conclave.Samples.Counter;

/// <summary>
/// The replicated value and the state-transfer rule, without I/O. View synchrony makes every replica
/// that moved from the same view into the next hold the same value there; a replica that did not
/// (a joiner, or one from another partition) adopts the value the view's first member had when the
/// view began, plus every addition delivered in the view — before or after that state message.
/// </summary>
internal sealed class CounterState
{
    private long _value;
    private long _addedInView;

    /// <summary>Gets a value indicating whether the value is known (false while waiting for a state transfer).</summary>
    public bool Known { get; private set; } = true;

    /// <summary>Gets the value, meaningful when <see cref="Known"/>.</summary>
    public long Value => _value;

    /// <summary>Installs a view; returns the value to send as the view's state if this replica is the view's first member.</summary>
    public long? OnView(string self, IReadOnlyList<string> members, MembershipCause cause, IReadOnlyList<string> vsSet)
    {
        _addedInView = 0;
        string first = members[0];
        bool sameHistoryAsFirst = first == self
            || (Known && cause switch
            {
                MembershipCause.Join => vsSet.Count == 0 || vsSet[0] != self, // the joiner is the one new member
                MembershipCause.Network => vsSet.Contains(first),
                _ => true, // a leave or disconnect: everyone left came from the same view
            });
        Known = sameHistoryAsFirst;
        return first == self ? _value : null;
    }

    /// <summary>Applies an addition delivered in the current view.</summary>
    public void OnAdd(long amount)
    {
        _addedInView += amount;
        _value += amount;
    }

    /// <summary>Applies the first member's state message; ignored by replicas that already know the value.</summary>
    public void OnState(long valueAtViewStart)
    {
        if (!Known)
        {
            _value = valueAtViewStart + _addedInView;
            Known = true;
        }
    }
}
