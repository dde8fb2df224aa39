using Conclave.Protocol.Ring.Wire;
using Conclave.Protocol.Tracing;

namespace Conclave.Protocol.Ring;

// Delivery in OPERATIONAL (D1-D4, ring-protocol.md §2.5) and the delivery helpers RC8 uses.
public sealed partial class RingMachine
{
    /// <summary>D1-D3: deliver in seq order, never past a hole nor past a safe message that is not yet stable.</summary>
    internal void DeliverRegular()
    {
        ConfId conf = ConfId.Reg(MyRingId);
        while (_regularQueue.TryGetValue(_myHighDelivered + 1, out McastMessage? m))
        {
            if (m.Service == RingService.Safe && m.Seq > _stable) break;
            _myHighDelivered++;
            if (m.Encapsulated) continue; // recovered old-ring data, already handled at install (RC8.5)
            DeliverMessage(m, conf);
        }
    }

    private void DeliverMessage(McastMessage m, ConfId conf)
    {
        var id = new MessageId(m.Originator, m.OriginatorIncarnation, m.OriginatorSeq);
        Emit(new RingMessage(id, m.Service, m.Ring, m.Seq, conf, m.Payload));
        if (!_options.TraceMessages) return;
        TraceOut(new TraceEvent(TraceKind.Deliver, _now, MyId, Incarnation)
        {
            Message = id,
            Service = m.Service,
            PayloadHash = TraceEvent.Hash(m.Payload),
            Conf = conf,
            Ring = m.Ring,
            Seq = m.Seq,
        });
    }

    private void DeliverConfiguration(ConfId id, uint[] members, uint[] left, uint[] joined)
    {
        Emit(new RingConfiguration(id, members, left, joined));
        TraceOut(new TraceEvent(TraceKind.Conf, _now, MyId, Incarnation) { Conf = id, Members = members });
    }

    private static uint[] Except(uint[] a, uint[] b)
    {
        var result = new List<uint>(a.Length);
        foreach (uint x in a)
        {
            if (Array.BinarySearch(b, x) < 0) result.Add(x);
        }
        return [.. result];
    }
}
