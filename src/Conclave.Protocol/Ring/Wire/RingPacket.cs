namespace Conclave.Protocol.Ring.Wire;

/// <summary>A parsed ring packet: the header and one body object of the header's type.</summary>
internal readonly record struct RingPacket(RingHeader Header, object Body)
{
    // MergeDetect and TokenHoldCancel bodies: ring rep u32 | ring seq u64 (docs/ring-wire.md §7).
    public static RingParseError TryParse(ReadOnlySpan<byte> packet, out RingPacket parsed) => TryParse(packet, null, out parsed);

    /// <summary>Parses a packet; a token is parsed into <paramref name="tokenScratch"/> when given.</summary>
    public static RingParseError TryParse(ReadOnlySpan<byte> packet, OrfToken? tokenScratch, out RingPacket parsed)
    {
        parsed = default;
        RingParseError error = RingHeader.TryParse(packet, out RingHeader header);
        if (error != RingParseError.None) return error;
        ReadOnlySpan<byte> body = packet[RingHeader.Size..];
        object? result = null;
        switch (header.Type)
        {
            case RingMessageType.Mcast:
                error = McastMessage.TryParseBody(body, (header.Flags & RingHeaderFlags.Encapsulated) != 0, out McastMessage? m);
                result = m;
                break;
            case RingMessageType.Token:
                error = OrfToken.TryParseBody(body, tokenScratch, out OrfToken? t);
                result = t;
                break;
            case RingMessageType.Join:
                error = JoinMessage.TryParseBody(header.Sender, body, out JoinMessage? j);
                result = j;
                break;
            case RingMessageType.CommitToken:
                error = CommitToken.TryParseBody(body, out CommitToken? c);
                result = c;
                break;
            case RingMessageType.MergeDetect:
            case RingMessageType.TokenHoldCancel:
                var r = new WireReader(body);
                if (!r.TryRingId(out RingId ring)) error = RingParseError.Truncated;
                else if (r.Remaining != 0) error = RingParseError.TrailingBytes;
                else result = header.Type == RingMessageType.MergeDetect ? new MergeDetectMessage(header.Sender, ring) : new TokenHoldCancelMessage(header.Sender, ring);
                break;
            default:
                return RingParseError.BadType;
        }
        if (error != RingParseError.None || result is null) return error == RingParseError.None ? RingParseError.BadField : error;
        parsed = new RingPacket(header, result);
        return RingParseError.None;
    }

    public static byte[] Format(uint sender, McastMessage m) =>
        Build(RingMessageType.Mcast, sender, m.Encapsulated ? RingHeaderFlags.Encapsulated : RingHeaderFlags.None, m.BodySize, m, static (ref WireWriter w, McastMessage s) => s.FormatBody(ref w));

    public static byte[] Format(uint sender, OrfToken t) =>
        Build(RingMessageType.Token, sender, RingHeaderFlags.None, t.BodySize, t, static (ref WireWriter w, OrfToken s) => s.FormatBody(ref w));

    public static byte[] Format(JoinMessage j) =>
        Build(RingMessageType.Join, j.Sender, RingHeaderFlags.None, j.BodySize, j, static (ref WireWriter w, JoinMessage s) => s.FormatBody(ref w));

    public static byte[] Format(uint sender, CommitToken c) =>
        Build(RingMessageType.CommitToken, sender, RingHeaderFlags.None, c.BodySize, c, static (ref WireWriter w, CommitToken s) => s.FormatBody(ref w));

    public static byte[] Format(MergeDetectMessage d) =>
        Build(RingMessageType.MergeDetect, d.Sender, RingHeaderFlags.None, 12, d, static (ref WireWriter w, MergeDetectMessage s) => w.RingId(s.Ring));

    public static byte[] Format(TokenHoldCancelMessage c) =>
        Build(RingMessageType.TokenHoldCancel, c.Sender, RingHeaderFlags.None, 12, c, static (ref WireWriter w, TokenHoldCancelMessage s) => w.RingId(s.Ring));

    private delegate void BodyWriter<T>(ref WireWriter w, T state);

    private static byte[] Build<T>(RingMessageType type, uint sender, RingHeaderFlags flags, int bodySize, T state, BodyWriter<T> body)
    {
        // Not zeroed (a data packet is mostly payload, copied in just after): the check below makes sure
        // every byte was written, so no stale heap memory can reach the wire.
        byte[] packet = GC.AllocateUninitializedArray<byte>(RingHeader.Size + bodySize);
        new RingHeader(type, sender, flags).Format(packet);
        var w = new WireWriter(packet.AsSpan(RingHeader.Size));
        body(ref w, state);
        if (w.Position != bodySize) throw new InvalidOperationException($"{type} body wrote {w.Position} of its {bodySize} bytes");
        RingHeader.Seal(packet);
        return packet;
    }
}

/// <summary>MergeDetect (ring-protocol.md §1.8): an idle representative announcing its ring.</summary>
internal sealed record MergeDetectMessage(uint Sender, RingId Ring);

/// <summary>TokenHoldCancel (ring-protocol.md §1.8): a member with something to send asks the representative to release an idle token.</summary>
internal sealed record TokenHoldCancelMessage(uint Sender, RingId Ring);
