using System.Net.Sockets;
using Conclave.Daemon.Internal;

namespace Conclave.Daemon.Ring;

// UDP GSO for link packets longer than one segment (LinkSegmentSize, docs/daemon-link.md "Split frames"):
// the socket segments every send longer than the segment size itself (UDP_SEGMENT), and with UDP_GRO the
// receiving socket takes a segmented send whole. Linux only; elsewhere, or when the kernel refuses, packets
// leave whole as before (IP fragmentation) and the daemon still joins split frames it receives.
internal sealed partial class UdpRingHost
{
    private const int SolUdp = 17;
    private const int UdpSegmentOption = 103;
    private const int UdpGroOption = 104;

    /// <summary>Turns on GSO sends (when configured) and GRO receives on the ring socket; logs the outcome.</summary>
    private void EnableSegmentation()
    {
        string receive = "chunks one by one";
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _socket.SetRawSocketOption(SolUdp, UdpGroOption, BitConverter.GetBytes(1));
                receive = "UDP GRO";
            }
            catch (SocketException)
            {
                // Split frames still arrive, one chunk per datagram.
            }
        }

        if (_ring.LinkSegmentSize == 0)
        {
            DaemonLog.RingSegmentation(_logger, 0, "off (LinkSegmentSize = 0): packets leave whole", receive);
            return;
        }

        if (!OperatingSystem.IsLinux())
        {
            DaemonLog.RingSegmentation(_logger, 0, "off: UDP GSO needs Linux; packets leave whole", receive);
            return;
        }

        try
        {
            _socket.SetRawSocketOption(SolUdp, UdpSegmentOption, BitConverter.GetBytes(_ring.LinkSegmentSize));
            _segment = _ring.LinkSegmentSize;
            DaemonLog.RingSegmentation(_logger, _segment, "UDP GSO", receive);
        }
        catch (SocketException ex)
        {
            DaemonLog.RingSegmentation(_logger, 0, $"off: the kernel refused UDP_SEGMENT ({ex.SocketErrorCode}); packets leave whole", receive);
        }
    }

    /// <summary>Sends a packet longer than a segment whole, the socket's segmentation off for the one send.</summary>
    private void SendUnsegmented(ReadOnlySpan<byte> packet, int index)
    {
        try
        {
            _socket.SetRawSocketOption(SolUdp, UdpSegmentOption, BitConverter.GetBytes(0));
            Send(packet, index);
            _socket.SetRawSocketOption(SolUdp, UdpSegmentOption, BitConverter.GetBytes(_segment));
        }
        catch (SocketException ex)
        {
            DisableSegmentation($"cannot switch UDP_SEGMENT for a whole packet: {ex.SocketErrorCode}");
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>After a refused segmented send: every later packet leaves whole (logged once).</summary>
    private void DisableSegmentation(string reason)
    {
        _segment = 0;
        try
        {
            _socket.SetRawSocketOption(SolUdp, UdpSegmentOption, BitConverter.GetBytes(0));
        }
        catch (SocketException)
        {
            // Nothing larger than a segment is sent segmented any more either way: Frame() checks _segment.
        }

        DaemonLog.SegmentationOff(_logger, reason);
    }
}
