using System.Buffers.Binary;

namespace Conclave.Daemon.Ring;

/// <summary>
/// The envelope of a group message on the ring: whole, or one fragment of a larger one.
/// <code>
///  off size whole            fragment
///    0    1 kind = 0         kind = 1
///    1    … encoded message  fragmented-message id u32, index u32, count u32, then the chunk
/// </code>
/// Little-endian. Fragment ids count per sender incarnation; a sender sends one message's fragments in
/// order, and the ring keeps a sender's order, so a receiver appends them as they come.
/// </summary>
internal static class Fragment
{
    public const byte WholeKind = 0;
    public const byte FragmentKind = 1;
    public const int FragmentHeaderSize = 13;

    public static byte[] Whole(byte[] encoded)
    {
        byte[] payload = GC.AllocateUninitializedArray<byte>(1 + encoded.Length);
        payload[0] = WholeKind;
        encoded.CopyTo(payload, 1);
        return payload;
    }

    public static byte[] Piece(uint id, int index, int count, ReadOnlySpan<byte> chunk)
    {
        byte[] payload = GC.AllocateUninitializedArray<byte>(FragmentHeaderSize + chunk.Length);
        payload[0] = FragmentKind;
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(1), id);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(5), index);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(9), count);
        chunk.CopyTo(payload.AsSpan(FragmentHeaderSize));
        return payload;
    }

    public static bool TryReadPiece(byte[] payload, out uint id, out int index, out int count)
    {
        id = 0;
        index = 0;
        count = 0;
        if (payload.Length < FragmentHeaderSize || payload[0] != FragmentKind)
        {
            return false;
        }

        id = BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(1));
        index = BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(5));
        count = BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(9));
        return count >= 2 && index >= 0 && index < count;
    }
}
