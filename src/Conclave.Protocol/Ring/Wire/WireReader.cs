using System.Buffers.Binary;

namespace Conclave.Protocol.Ring.Wire;

/// <summary>Bounds-checked big-endian reader: every read returns false instead of slicing past the end.</summary>
internal ref struct WireReader(ReadOnlySpan<byte> buffer)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private int _pos;

    public readonly int Remaining => _buffer.Length - _pos;

    public bool TryU8(out byte value)
    {
        if (Remaining < 1) { value = 0; return false; }
        value = _buffer[_pos++];
        return true;
    }

    public bool TryU16(out ushort value)
    {
        if (Remaining < 2) { value = 0; return false; }
        value = BinaryPrimitives.ReadUInt16BigEndian(_buffer.Slice(_pos, 2));
        _pos += 2;
        return true;
    }

    public bool TryU32(out uint value)
    {
        if (Remaining < 4) { value = 0; return false; }
        value = BinaryPrimitives.ReadUInt32BigEndian(_buffer.Slice(_pos, 4));
        _pos += 4;
        return true;
    }

    public bool TryU64(out ulong value)
    {
        if (Remaining < 8) { value = 0; return false; }
        value = BinaryPrimitives.ReadUInt64BigEndian(_buffer.Slice(_pos, 8));
        _pos += 8;
        return true;
    }

    public bool TryRingId(out RingId value)
    {
        if (TryU32(out uint rep) && TryU64(out ulong seq)) { value = new RingId(rep, seq); return true; }
        value = default;
        return false;
    }

    public bool TryBytes(int length, out ReadOnlySpan<byte> value)
    {
        if (length < 0 || Remaining < length) { value = default; return false; }
        value = _buffer.Slice(_pos, length);
        _pos += length;
        return true;
    }

    /// <summary>Reads a u16 count followed by that many u32 node ids; requires them sorted and unique.</summary>
    public bool TryNodeList(out uint[] nodes)
    {
        nodes = [];
        if (!TryU16(out ushort count) || Remaining < count * 4) return false;
        var list = new uint[count];
        for (int i = 0; i < count; i++)
        {
            TryU32(out list[i]);
            if (list[i] == 0 || (i > 0 && list[i] <= list[i - 1])) return false;
        }
        nodes = list;
        return true;
    }
}
