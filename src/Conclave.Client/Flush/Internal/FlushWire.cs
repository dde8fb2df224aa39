using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Flush.Internal;

/*
 * The Flush library's messages are ordinary Spread data messages (spread-daemon.md §7, scenario 11):
 *   FLUSH_OK   FIFO_MESS to the group, mess_type -32768, body = the new Spread view's group id (12 bytes)
 *   FLUSH_RECV FIFO_MESS to the group, mess_type -32767, body = the installed view's group id
 *   VULNERABLE the sender's service, mess_type -32766, body = user body | user mess_type (int16) | gid (12)
 *   subgroupcast: service | SUBGROUP_CAST, groups = receivers, body = user body [| vulnerable tail] | group (32)
 * Integers in the tails are in the sender's byte order (little-endian here); receivers flip on endian mismatch.
 */

/// <summary>The Flush library's reserved message types, service bits and body tails.</summary>
internal static class FlushWire
{
    public const short FlushOk = -32768;
    public const short FlushRecv = -32767;
    public const short Vulnerable = -32766;

    /// <summary>The lowest message type an application may use.</summary>
    public const short MinApplicationType = -32765;

    /// <summary>FL's SUBGROUP_CAST bit: it travels in the type word; the reference group is appended to the body.</summary>
    public const ServiceType SubgroupCast = (ServiceType)0x4000_0000;

    /// <summary>The services whose delivery does not wait for the flush messages before them (FL's "vulnerable" services).</summary>
    public const ServiceType WeakServices = ServiceType.Unreliable | ServiceType.Reliable | ServiceType.Fifo;

    public static byte[] GroupIdBody(GroupId id)
    {
        var body = new byte[GroupId.Size];
        id.Write(body);
        return body;
    }

    /// <summary>Builds the body of an application message with FL's tails; without tails a whole array is sent as it is, uncopied.</summary>
    public static byte[] ApplicationBody(ReadOnlyMemory<byte> user, short messageType, GroupId? vulnerableTo, string? referenceGroup)
    {
        if (vulnerableTo is null && referenceGroup is null
            && MemoryMarshal.TryGetArray(user, out ArraySegment<byte> whole) && whole.Offset == 0 && whole.Count == whole.Array!.Length)
        {
            // The send completes once the frame is copied into the session's batch (or written), before the caller regains the array.
            return whole.Array;
        }

        return ApplicationBody(user.Span, messageType, vulnerableTo, referenceGroup);
    }

    /// <summary>Builds the body of an application message with FL's tails.</summary>
    public static byte[] ApplicationBody(ReadOnlySpan<byte> user, short messageType, GroupId? vulnerableTo, string? referenceGroup)
    {
        int length = user.Length + (vulnerableTo is null ? 0 : 2 + GroupId.Size) + (referenceGroup is null ? 0 : SpreadLimits.GroupNameSize);
        var body = new byte[length];
        user.CopyTo(body);
        int at = user.Length;
        if (vulnerableTo is GroupId gid)
        {
            BinaryPrimitives.WriteInt16LittleEndian(body.AsSpan(at), messageType);
            gid.Write(body.AsSpan(at + 2));
            at += 2 + GroupId.Size;
        }

        if (referenceGroup is not null)
        {
            NameField.Write(referenceGroup, body.AsSpan(at, SpreadLimits.GroupNameSize));
        }

        return body;
    }
}
