using System.Buffers.Binary;
using System.Text;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Tests.Conformance;

/// <summary>
/// Finds the handshake and frame boundaries of a recorded byte stream, so the variable fields the
/// conformance README names (group-id times, generated names) can be masked or rewritten.
/// </summary>
internal static class StreamLayout
{
    /// <summary>Where frames start in a client→daemon stream, and the client's version.</summary>
    public static (int FramesStart, SpreadVersion Version) ClientHandshake(byte[] c2d)
    {
        if (c2d.Length < 2)
        {
            return (c2d.Length, default);
        }

        bool patch = SpreadVersion.SendsPatchByte(c2d[0], c2d[1]);
        var version = new SpreadVersion(c2d[0], c2d[1], patch && c2d.Length > 2 ? c2d[2] : 0);
        int at = patch ? 3 : 2;
        if (c2d.Length < at + 2)
        {
            return (c2d.Length, version);
        }

        at += 2 + c2d[at + 1];
        if (version.UsesAuthExchange)
        {
            at += SpreadLimits.AuthChoiceSize;
        }

        return (Math.Min(at, c2d.Length), version);
    }

    /// <summary>Where frames start in a daemon→client stream, and the private group name accepted (null if rejected).</summary>
    public static (int FramesStart, string? PrivateName) DaemonHandshake(byte[] d2c, SpreadVersion clientVersion)
    {
        int at = 0;
        if (d2c.Length == 0 || (sbyte)d2c[0] < 0)
        {
            return (d2c.Length, null);
        }

        if (clientVersion.UsesAuthExchange)
        {
            at += 1 + d2c[0];
        }

        if (at >= d2c.Length || (sbyte)d2c[at] < 0)
        {
            return (d2c.Length, null);
        }

        at += clientVersion.ReadsPatchByte ? 4 : 3;
        int nameLength = d2c[at];
        string name = Encoding.Latin1.GetString(d2c, at + 1, nameLength);
        return (at + 1 + nameLength, name);
    }

    /// <summary>Zeroes the group-id time of every membership frame (README comparison rule 3).</summary>
    public static byte[] MaskGroupIdTimes(byte[] d2c, int framesStart)
    {
        byte[] masked = (byte[])d2c.Clone();
        foreach ((int start, MessageHeader header) in Frames(masked, framesStart))
        {
            if ((header.Type & (ServiceType.RegularMembership | ServiceType.TransitionMembership)) != 0)
            {
                int gid = start + MessageHeader.Size + (SpreadLimits.GroupNameSize * header.NumGroups);
                masked.AsSpan(gid + 4, 4).Clear();
            }
        }

        return masked;
    }

    /// <summary>Rewrites every 32-byte name field (header name and group list) through <paramref name="map"/>.</summary>
    public static void RewriteNames(byte[] stream, int framesStart, Func<string, string> map)
    {
        foreach ((int start, MessageHeader header) in Frames(stream, framesStart))
        {
            Rewrite(stream.AsSpan(start + 4, SpreadLimits.GroupNameSize), map);
            int extra = (header.Type & ServiceType.Reject) != 0 ? 4 : 0;
            for (int i = 0; i < header.NumGroups; i++)
            {
                Rewrite(stream.AsSpan(start + MessageHeader.Size + extra + (i * SpreadLimits.GroupNameSize), SpreadLimits.GroupNameSize), map);
            }
        }
    }

    private static void Rewrite(Span<byte> field, Func<string, string> map)
    {
        string name = NameField.Read(field);
        string mapped = map(name);
        if (!string.Equals(name, mapped, StringComparison.Ordinal))
        {
            NameField.Write(mapped, field);
        }
    }

    /// <summary>The complete frames of a stream (a truncated tail is ignored).</summary>
    public static IEnumerable<(int Start, MessageHeader Header)> Frames(byte[] stream, int framesStart)
    {
        int at = framesStart;
        while (stream.Length - at >= MessageHeader.Size)
        {
            MessageHeader header = MessageHeader.Parse(stream.AsSpan(at));
            int extra = (header.Type & ServiceType.Reject) != 0 ? 4 : 0;
            long length = MessageHeader.Size + extra + header.PayloadLength;
            if (header.NumGroups < 0 || header.DataLength < 0 || at + length > stream.Length)
            {
                yield break;
            }

            yield return (at, header);
            at += (int)length;
        }
    }

    public static int ReadInt(byte[] bytes, int at) => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at));
}
