using System.Buffers.Binary;

namespace Conclave.Protocol.Ring.Wire;

/// <summary>Big-endian writer over a buffer sized in advance by the caller.</summary>
internal ref struct WireWriter(Span<byte> buffer)
{
    private readonly Span<byte> _buffer = buffer;
    private int _pos;

    public readonly int Position => _pos;

    public void U8(byte value) => _buffer[_pos++] = value;

    public void U16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.Slice(_pos, 2), value);
        _pos += 2;
    }

    public void U32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.Slice(_pos, 4), value);
        _pos += 4;
    }

    public void U64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_buffer.Slice(_pos, 8), value);
        _pos += 8;
    }

    public void RingId(RingId id)
    {
        U32(id.Rep);
        U64(id.Seq);
    }

    public void Bytes(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_buffer[_pos..]);
        _pos += value.Length;
    }

    public void NodeList(IReadOnlyList<uint> nodes)
    {
        U16((ushort)nodes.Count);
        for (int i = 0; i < nodes.Count; i++) U32(nodes[i]);
    }
}
