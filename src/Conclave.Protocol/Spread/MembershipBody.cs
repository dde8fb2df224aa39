using System.Buffers.Binary;

namespace Conclave.Protocol.Spread;

/// <summary>
/// The body of a regular membership message (spread-client-protocol.md §3.6), in the daemon's byte order.
/// </summary>
/// <remarks>
/// <code>
///  off size field
///    0   12 group id (proc_id, time, index)
///   12    4 num_vs_sets
///   16    4 offset of the receiver's own vs-set, counted from byte 20
///   20    … vs-sets: count (uint32) then count × 32-byte member names
/// </code>
/// A transitional membership's body is the 12-byte group id alone.
/// </remarks>
public sealed class MembershipBody
{
    /// <summary>Bytes before the vs-set region.</summary>
    public const int VsSetRegionOffset = 20;

    /// <summary>Creates a membership body.</summary>
    public MembershipBody(GroupId groupId, IReadOnlyList<IReadOnlyList<string>> vsSets, int localVsSetIndex)
    {
        GroupId = groupId;
        VsSets = vsSets;
        LocalVsSetIndex = localVsSetIndex;
    }

    /// <summary>The view's group id.</summary>
    public GroupId GroupId { get; }

    /// <summary>The virtual-synchrony sets, each a list of private group names.</summary>
    public IReadOnlyList<IReadOnlyList<string>> VsSets { get; }

    /// <summary>Index in <see cref="VsSets"/> of the set holding the receiver.</summary>
    public int LocalVsSetIndex { get; }

    /// <summary>Bytes this body takes on the wire.</summary>
    public int Size
    {
        get
        {
            int size = VsSetRegionOffset;
            foreach (IReadOnlyList<string> set in VsSets)
            {
                size += 4 + (SpreadLimits.GroupNameSize * set.Count);
            }

            return size;
        }
    }

    /// <summary>The byte offset (from the vs-set region) of the set at <paramref name="index"/>.</summary>
    public int OffsetOf(int index)
    {
        int offset = 0;
        for (int i = 0; i < index; i++)
        {
            offset += 4 + (SpreadLimits.GroupNameSize * VsSets[i].Count);
        }

        return offset;
    }

    /// <summary>Writes the body little-endian; returns the bytes written.</summary>
    public int Write(Span<byte> destination)
    {
        GroupId.Write(destination);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], VsSets.Count);
        BinaryPrimitives.WriteInt32LittleEndian(destination[16..], OffsetOf(LocalVsSetIndex));
        int at = VsSetRegionOffset;
        foreach (IReadOnlyList<string> set in VsSets)
        {
            BinaryPrimitives.WriteInt32LittleEndian(destination[at..], set.Count);
            at += 4;
            foreach (string member in set)
            {
                NameField.Write(member, destination.Slice(at, SpreadLimits.GroupNameSize));
                at += SpreadLimits.GroupNameSize;
            }
        }

        return at;
    }

    /// <summary>
    /// Parses a regular membership body written in the given byte order; false if it is malformed
    /// (lengths that overrun the body, negative counts, an offset that names no set).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> body, bool bigEndian, out MembershipBody? result)
    {
        result = null;
        if (body.Length < VsSetRegionOffset)
        {
            return false;
        }

        GroupId groupId = GroupId.Read(body, bigEndian);
        int count = ReadInt(body[12..], bigEndian);
        int localOffset = ReadInt(body[16..], bigEndian);
        if (count < 0 || count > body.Length)
        {
            return false;
        }

        var sets = new List<IReadOnlyList<string>>(count);
        int localIndex = -1;
        int at = VsSetRegionOffset;
        for (int i = 0; i < count; i++)
        {
            if (at - VsSetRegionOffset == localOffset)
            {
                localIndex = i;
            }

            if (body.Length - at < 4)
            {
                return false;
            }

            int members = ReadInt(body[at..], bigEndian);
            at += 4;
            if (members < 0 || (long)members * SpreadLimits.GroupNameSize > body.Length - at)
            {
                return false;
            }

            var set = new string[members];
            for (int m = 0; m < members; m++)
            {
                set[m] = NameField.Read(body.Slice(at, SpreadLimits.GroupNameSize));
                at += SpreadLimits.GroupNameSize;
            }

            sets.Add(set);
        }

        if (count > 0 && localIndex < 0)
        {
            return false;
        }

        result = new MembershipBody(groupId, sets, Math.Max(localIndex, 0));
        return true;
    }

    private static int ReadInt(ReadOnlySpan<byte> source, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadInt32BigEndian(source) : BinaryPrimitives.ReadInt32LittleEndian(source);
}
