using System.Net;
using System.Net.Sockets;

namespace Conclave.Daemon.Tests.Secure;

/// <summary>
/// One direction of one daemon-to-daemon link: a UDP socket on 127.0.0.1 that forwards every datagram to the
/// target daemon, unless the link is cut (then it drops them, as a partitioned network would). Daemons know a
/// sender by its sealed packet, not its address, so the relay's own address does not matter.
/// </summary>
internal sealed class UdpRelay : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly IPEndPoint _target;
    private readonly Task _pump;
    private volatile bool _cut;
    private long _dropped;

    public UdpRelay(IPEndPoint target)
    {
        _target = target;
        _socket.ReceiveBufferSize = 4 << 20;
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Endpoint = (IPEndPoint)_socket.LocalEndPoint!;
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Where the sending daemon believes its peer is.</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>True while datagrams are dropped.</summary>
    public bool Cut
    {
        get => _cut;
        set => _cut = value;
    }

    /// <summary>Datagrams dropped while cut.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Dispose()
    {
        _socket.Dispose();
        _pump.Wait(ClientSessions.Patience);
    }

    private async Task PumpAsync()
    {
        byte[] buffer = new byte[65_536];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (true)
        {
            int received;
            try
            {
                received = (await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any)).ReceivedBytes;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused)
            {
                continue; // An ICMP error from a target that was down for a moment.
            }
            catch (SocketException)
            {
                return; // Closed.
            }

            if (_cut)
            {
                Interlocked.Increment(ref _dropped);
                continue;
            }

            try
            {
                _socket.SendTo(buffer.AsSpan(0, received), SocketFlags.None, _target);
            }
            catch (SocketException)
            {
                // The target is gone for now: the datagram is lost, as on a network.
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }
}
