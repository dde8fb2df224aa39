using System.Buffers.Binary;

namespace Conclave.Protocol.Spread;

/// <summary>
/// A group view's identifier as membership messages carry it: the ring membership's representative
/// (<see cref="ProcId"/>, an IPv4 address), its timestamp (<see cref="Time"/>) and a per-group counter.
/// </summary>
public readonly record struct GroupId(int ProcId, int Time, int Index)
{
    /// <summary>Bytes on the wire: three int32.</summary>
    public const int Size = 12;

    /// <summary>Reads a group id in the given byte order.</summary>
    public static GroupId Read(ReadOnlySpan<byte> source, bool bigEndian) => bigEndian
        ? new(BinaryPrimitives.ReadInt32BigEndian(source), BinaryPrimitives.ReadInt32BigEndian(source[4..]), BinaryPrimitives.ReadInt32BigEndian(source[8..]))
        : new(BinaryPrimitives.ReadInt32LittleEndian(source), BinaryPrimitives.ReadInt32LittleEndian(source[4..]), BinaryPrimitives.ReadInt32LittleEndian(source[8..]));

    /// <summary>Writes the group id little-endian.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, ProcId);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], Time);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], Index);
    }

    /// <inheritdoc />
    public override string ToString() => $"{(uint)ProcId}.{(uint)Time}.{Index}";
}
