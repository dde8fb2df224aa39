namespace Conclave.Client.Flush.Internal;

/// <summary>Control messages of the coordinator exchange that a session dropped instead of acting on.</summary>
internal sealed class FlushCoordinationCounters
{
    /// <summary>Gets the messages dropped as bad: an ALL_FLUSHED from a member that is not the view's coordinator or not sent AGREED,
    /// a FLUSH_OK sent to a member that does not coordinate its view or from a non-member, a multicast FLUSH_OK (plain FL) in a
    /// coordinated group, or a frame too short to hold its view id.</summary>
    public long Rejected { get; internal set; }

    /// <summary>Gets the messages dropped as stale: for a view that is not (or no longer) pending here. A cascade makes some
    /// (an ALL_FLUSHED or FLUSH_OK for a view a later one superseded); they are not errors.</summary>
    public long Stale { get; internal set; }
}
