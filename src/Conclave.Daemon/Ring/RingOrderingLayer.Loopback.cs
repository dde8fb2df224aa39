using System.Buffers.Binary;
using Conclave.Protocol.Ring;

namespace Conclave.Daemon.Ring;

/// <summary>
/// Packets the ring addresses to this daemon itself (a ring of one's token, a commit token) never
/// touch the network: they are fed back to the ring within the same pump, after the outputs that
/// came with them. A ring of one would then pass its token to itself forever, so once nothing has
/// changed for a few visits the token is parked: it goes on when something is submitted, or when
/// the ring re-sends it (token retransmit timer), which bounds an idle lone daemon to one visit
/// per retransmit timeout instead of spinning a core. Also counts token visits.
/// </summary>
internal sealed partial class RingOrderingLayer
{
    // docs/ring-wire.md: 16-byte header (type at 3), then ring id (12), token seq (8), seq (8), aru (8), …, rtr count (u16).
    private const int TypeOffset = 3;
    private const byte TokenType = 2;
    private const int SeqOffset = 16 + 12 + 8;
    private const int AruOffset = SeqOffset + 8;
    private const int RtrCountOffset = AruOffset + 8 + 4 + 4 + 4 + 1;
    private const int QuietVisitsBeforeParking = 3;

    private readonly Queue<byte[]> _toSelf = new();
    private byte[]? _parkedToken;
    private byte[]? _lastForwardedToken;
    private ulong _lastSelfTokenSeq = ulong.MaxValue;
    private int _quietVisits;

    /// <summary>Regular tokens this daemon has passed on (each rotation of its ring visits it once; re-sends not counted).</summary>
    public long TokenVisits { get; private set; }

    /// <summary>Times an idle ring of one parked its token.</summary>
    public long TokensParked { get; private set; }

    /// <summary>Routes one packet output: to self (fed back), or to the host (the network).</summary>
    private void Send(SendPacket send)
    {
        byte[] packet = send.Packet;
        bool isToken = packet.Length >= RtrCountOffset + 2 && packet[TypeOffset] == TokenType;
        if (isToken && !ReferenceEquals(packet, _lastForwardedToken))
        {
            TokenVisits++;
            _lastForwardedToken = packet;
        }

        if (send.To != _ring.MyId)
        {
            _host(send);
            return;
        }

        if (isToken && _parkedToken is null && IsQuiet(packet))
        {
            _parkedToken = packet;
            TokensParked++;
            return;
        }

        _parkedToken = null; // A re-sent token while one is parked: the ring wants it back now.
        _toSelf.Enqueue(packet);
    }

    /// <summary>True when a lone, operational ring with nothing to send has seen no new message for a few visits.</summary>
    private bool IsQuiet(byte[] token)
    {
        ulong seq = BinaryPrimitives.ReadUInt64BigEndian(token.AsSpan(SeqOffset));
        ulong aru = BinaryPrimitives.ReadUInt64BigEndian(token.AsSpan(AruOffset));
        ushort rtr = BinaryPrimitives.ReadUInt16BigEndian(token.AsSpan(RtrCountOffset));
        bool unchanged = seq == aru && rtr == 0 && seq == _lastSelfTokenSeq;
        _lastSelfTokenSeq = seq;
        _quietVisits = unchanged ? _quietVisits + 1 : 0;
        return _quietVisits >= QuietVisitsBeforeParking && _ring.Members.Count == 1 && _ring.State == RingState.Operational
            && _ring.PendingSends == 0 && Backlog == 0;
    }

    /// <summary>Feeds self-addressed packets back; a parked token goes on once there is work (or is dropped if the ring moved on).</summary>
    private bool FeedSelf()
    {
        if (_parkedToken is not null && (_ring.PendingSends > 0 || Backlog > 0 || _ring.State != RingState.Operational))
        {
            if (_ring.State == RingState.Operational)
            {
                _toSelf.Enqueue(_parkedToken);
            }

            _parkedToken = null;
            _quietVisits = 0;
        }

        bool fed = _toSelf.Count > 0;
        while (_toSelf.TryDequeue(out byte[]? packet))
        {
            _ring.OnPacket(packet, _clock());
        }

        return fed;
    }
}
