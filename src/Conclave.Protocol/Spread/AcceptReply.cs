using System.Text;

namespace Conclave.Protocol.Spread;

/// <summary>
/// The daemon's accept reply (spread-client-protocol.md §2.4):
/// <code>1 (ACCEPT_SESSION) | major | minor | patch (libraries ≥ 3.15.0 only) | M | private group name (M bytes)</code>
/// </summary>
public static class AcceptReply
{
    /// <summary>Encodes the reply for a client of the given library version.</summary>
    public static byte[] Encode(SpreadVersion clientVersion, SpreadVersion daemonVersion, string privateGroupName)
    {
        byte[] name = Encoding.Latin1.GetBytes(privateGroupName);
        var reply = new List<byte> { (byte)SpreadError.AcceptSession, (byte)daemonVersion.Major, (byte)daemonVersion.Minor };
        if (clientVersion.ReadsPatchByte)
        {
            reply.Add((byte)daemonVersion.Patch);
        }

        reply.Add((byte)name.Length);
        reply.AddRange(name);
        return [.. reply];
    }
}
