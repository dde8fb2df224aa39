using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Conclave.Daemon.Configuration;

namespace Conclave.Daemon.Ring;

/// <summary>
/// A segment's IP multicast group for ring broadcasts: one UDP socket bound to the group's address and
/// port (address reuse, so several daemons on one host each have one), joined to the group on this
/// daemon's interface, sending to the group through that interface with TTL 1 (a segment is one
/// network). Loopback is on only when another daemon of the segment has an address of this host:
/// only they need this host's copies, and elsewhere a daemon would just receive its own.
/// </summary>
internal sealed class RingMulticastSocket : IDisposable
{
    private readonly Socket _socket;
    private readonly IPEndPoint _group;
    private readonly SocketAddress _groupAddress;

    /// <exception cref="SocketException">The group cannot be bound or joined on the interface.</exception>
    public RingMulticastSocket(SegmentMulticast multicast, IEnumerable<IPAddress> segmentAddresses)
    {
        _group = multicast.Group;
        _groupAddress = _group.Serialize();
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _socket.ReceiveBufferSize = 4 << 20;
            _socket.SendBufferSize = 4 << 20;
            // Bound to the group, the socket gets only the group's datagrams (Linux); elsewhere the port's.
            _socket.Bind(new IPEndPoint(OperatingSystem.IsLinux() ? _group.Address : IPAddress.Any, _group.Port));
            _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(_group.Address, multicast.Interface));
            _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, multicast.Interface.GetAddressBytes());
            _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 1);
            _socket.MulticastLoopback = SharesHost(multicast.Interface, segmentAddresses);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
    }

    /// <summary>The group's address and port.</summary>
    public IPEndPoint Group => _group;

    /// <summary>Whether this host's own copies are looped back (another daemon of the segment is on this host).</summary>
    public bool Loopback => _socket.MulticastLoopback;

    /// <summary>Sends one packet to every daemon of the segment.</summary>
    /// <exception cref="SocketException">The send failed (e.g. no route for the group).</exception>
    public void Send(ReadOnlySpan<byte> packet) => _socket.SendTo(packet, SocketFlags.None, _groupAddress);

    /// <summary>Receives one datagram sent to the group.</summary>
    /// <summary>The joined socket, for the host's receive thread.</summary>
    public Socket Socket => _socket;

    public void Dispose() => _socket.Dispose();

    private static bool SharesHost(IPAddress self, IEnumerable<IPAddress> segmentAddresses)
    {
        HashSet<IPAddress> local = [.. NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses.Select(a => a.Address))];
        return segmentAddresses.Any(a => !a.Equals(self) && (IPAddress.IsLoopback(a) || local.Contains(a)));
    }
}
