using System.Net.Sockets;
using Conclave.Daemon.Internal;
using Conclave.Daemon.Network;

namespace Conclave.Daemon.Ring;

// IP multicast for a segment that asks for it (DaemonRingOptions.Multicast): the group socket, its
// receive loop, and the one send per ring broadcast that replaces the unicasts to the segment's daemons.
internal sealed partial class UdpRingHost
{
    private RingMulticastSocket? _multicast;
    private Task _multicastReceiver = Task.CompletedTask;
    private long _multicastSent;
    private LinkFrameJoiner? _groupJoiner;

    /// <summary>Ring broadcasts sent to the segment's multicast group.</summary>
    public long MulticastSent => Interlocked.Read(ref _multicastSent);

    /// <summary>Opens and joins the segment's group, when configured, and starts receiving from it.</summary>
    private void StartMulticast()
    {
        if (_ring.Multicast is not { } multicast)
        {
            return;
        }

        try
        {
            _multicast = new RingMulticastSocket(multicast, multicast.Members.Select(n => _endpoints[n - 1].Address));
        }
        catch (SocketException ex)
        {
            throw new InvalidOperationException($"cannot join the segment's multicast group {multicast.Group} on {multicast.Interface}: {ex.SocketErrorCode} ({ex.Message}); check that the interface has multicast enabled and a route for 224.0.0.0/4", ex);
        }

        DaemonLog.RingMulticast(_logger, multicast.Group.ToString(), multicast.Interface.ToString(), multicast.Members.Count - 1, _multicast.Loopback);
        RingMulticastSocket group = _multicast;
        LinkFrameJoiner joiner = _groupJoiner = new LinkFrameJoiner(_endpoints.Length);
        _multicastReceiver = Task.Factory.StartNew(() => ReceiveLoop(group.Socket, joiner, "ring-receive-group", fromGroup: true),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>True when node <paramref name="node"/> gets ring broadcasts through the group rather than by unicast.</summary>
    private bool ReachedByMulticast(uint node) => _multicast is not null && _ring.Multicast!.Reaches(node);

    /// <summary>Sends a sealed ring broadcast to the group (nothing without one).</summary>
    private void SendToGroup(ReadOnlySpan<byte> sealedPacket)
    {
        if (_multicast is null)
        {
            return;
        }

        try
        {
            _multicast.Send(sealedPacket);
            _packetsSent++;
            _multicastSent++;
        }
        catch (SocketException ex)
        {
            if (_sendErrors++ % 1000 == 0)
            {
                DaemonLog.SendFailed(_logger, _multicast.Group.ToString(), ex.SocketErrorCode.ToString());
            }
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async ValueTask StopMulticastAsync()
    {
        _multicast?.Dispose();
        await _multicastReceiver.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
