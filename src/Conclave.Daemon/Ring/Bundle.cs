using System.Buffers.Binary;

namespace Conclave.Daemon.Ring;

/// <summary>
/// Several whole group messages packed into one ring payload, so that under load a token visit carries
/// many small messages instead of one each (Spread packs the same way). The messages are consecutive
/// in the sending daemon's queue and share one ring service, so delivering them one after another at
/// the bundle's position keeps every order the ring gives.
/// <code>
///  off size
///    0    1 kind = 2
///    1    … entries: length u32 (little-endian), then that many bytes of an encoded message
/// </code>
/// </summary>
internal static class Bundle
{
    public const byte Kind = 2;
    public const int EntryHeaderSize = 4;

    /// <summary>Bytes one message adds to a bundle.</summary>
    public static int EntrySize(byte[] encoded) => EntryHeaderSize + encoded.Length;

    /// <summary>Packs <paramref name="messages"/> (at least two) into one payload of exactly <paramref name="payloadSize"/> bytes.</summary>
    public static byte[] Pack(IReadOnlyList<byte[]> messages, int payloadSize)
    {
        byte[] payload = GC.AllocateUninitializedArray<byte>(payloadSize); // every byte is written below
        payload[0] = Kind;
        int at = 1;
        foreach (byte[] encoded in messages)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(at), (uint)encoded.Length);
            encoded.CopyTo(payload.AsSpan(at + EntryHeaderSize));
            at += EntrySize(encoded);
        }

        if (at != payloadSize)
        {
            throw new ArgumentException("The payload size does not match the messages.", nameof(payloadSize));
        }

        return payload;
    }

    /// <summary>
    /// Splits a bundle into its encoded messages; false (and nothing added) if any entry overruns the
    /// payload or the bundle is empty. Every daemon gets the same bytes, so every daemon drops the same
    /// bundles.
    /// </summary>
    public static bool TryUnpack(byte[] payload, List<ReadOnlyMemory<byte>> messages)
    {
        int start = messages.Count;
        int at = 1;
        while (at < payload.Length)
        {
            if (payload.Length - at < EntryHeaderSize)
            {
                messages.RemoveRange(start, messages.Count - start);
                return false;
            }

            uint length = BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(at));
            at += EntryHeaderSize;
            if (length == 0 || length > (uint)(payload.Length - at))
            {
                messages.RemoveRange(start, messages.Count - start);
                return false;
            }

            messages.Add(payload.AsMemory(at, (int)length));
            at += (int)length;
        }

        return messages.Count > start;
    }
}
