using System.Net;
using System.Net.Sockets;

namespace Conclave.Daemon.Configuration;

/// <summary>
/// A segment that asked for IP multicast: its address in spread.conf is an IPv4 multicast address
/// (224.0.0.0/4). Ring broadcasts to the daemons of the segment go to <paramref name="Group"/> once,
/// sent and received on this daemon's interface <paramref name="Interface"/>; daemons of other
/// segments still get one unicast each, and tokens are always unicast (spread-daemon.md §2.1).
/// </summary>
/// <param name="Group">The segment's multicast address and port.</param>
/// <param name="Interface">This daemon's own daemon-traffic address: the interface that joins the group.</param>
/// <param name="Members">Node ids the group reaches (the daemons of this segment, this one included).</param>
public sealed record SegmentMulticast(IPEndPoint Group, IPAddress Interface, IReadOnlyList<uint> Members)
{
    /// <summary>True for an IPv4 multicast address (224.0.0.0/4), the only kind a segment can multicast to.</summary>
    public static bool IsMulticast(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AddressFamily == AddressFamily.InterNetwork && (address.GetAddressBytes()[0] & 0xF0) == 0xE0;
    }

    /// <summary>True when the group carries broadcasts to node <paramref name="node"/>.</summary>
    public bool Reaches(uint node) => Members.Contains(node);
}
