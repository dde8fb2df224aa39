using Conclave.Client.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Conclave.Client.Flush.Internal;

/// <summary>The Flush layer's milestones of a membership change, as debug log events (they time its phases).</summary>
internal sealed class FlushLog(ILogger logger)
{
    /// <summary>A Spread view of the group arrived: the flush for it starts.</summary>
    public void SpreadViewReceived(string group, int members) => ClientLog.SpreadViewReceived(logger, group, members);

    /// <summary>Every member's FLUSH_OK arrived: the Flush view is installed.</summary>
    public void FlushViewInstalled(string group, int members) => ClientLog.FlushViewInstalled(logger, group, members);

    /// <summary>A coordinator-exchange control message was dropped as bad (counted in <see cref="FlushCoordinationCounters.Rejected"/>).</summary>
    public void ControlRejected(string group, string sender, string reason) => ClientLog.FlushControlRejected(logger, group, sender, reason);
}
