using System.Net;
using Conclave.Protocol.Groups;
using Conclave.Protocol.Ring;

namespace Conclave.Daemon.Ring;

/// <summary>
/// The daemons of a configuration as the ring names them: node id = configuration index + 1. Maps ring
/// configurations to the group layer's daemon names and <see cref="MembershipId"/>s.
/// </summary>
internal sealed class RingNodes
{
    private readonly string[] _names;
    private readonly int[] _procIds;

    public RingNodes(IReadOnlyList<string> names, IReadOnlyList<IPAddress> addresses)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(addresses.Count, names.Count);
        _names = [.. names];
        int[] ips = [.. addresses.Select(ProcIdOf)];
        // Spread's proc_id is the IPv4 address; daemons sharing an address (distinct ports) need the node id too.
        bool shared = ips.Distinct().Count() != ips.Length;
        _procIds = [.. ips.Select((ip, i) => shared ? ip + i + 1 : ip)];
    }

    public int Count => _names.Length;

    public string NameOf(uint node) => node >= 1 && node <= _names.Length ? _names[node - 1] : $"node{node}";

    public uint NodeOf(string name) => (uint)(Array.IndexOf(_names, name) + 1);

    public List<string> NamesOf(uint[] members)
    {
        var names = new List<string>(members.Length);
        foreach (uint member in members)
        {
            names.Add(NameOf(member));
        }

        return names;
    }

    /// <summary>
    /// A membership id unique per configuration, regular and transitional alike: proc_id is the new
    /// ring's representative; time is the ring seq shifted left by 8, with a non-zero low byte for a
    /// transitional configuration derived from the old ring (several old rings may merge into one).
    /// </summary>
    public MembershipId IdOf(ConfId conf)
    {
        int procId = conf.Ring.Rep >= 1 && conf.Ring.Rep <= _procIds.Length ? _procIds[conf.Ring.Rep - 1] : (int)conf.Ring.Rep;
        uint time = unchecked((uint)(conf.Ring.Seq << 8));
        if (conf.Kind == ConfKind.Transitional)
        {
            ulong mix = unchecked((conf.Old.Seq * 0x9E3779B97F4A7C15UL) ^ (conf.Old.Rep * 0xC2B2AE3D27D4EB4FUL));
            time |= 1 + (uint)((mix >> 32) % 255);
        }

        return new MembershipId(procId, unchecked((int)time));
    }

    /// <summary>Spread's proc_id: the IPv4 address as a host-order integer (127.0.0.1 → 0x7F000001).</summary>
    public static int ProcIdOf(IPAddress address)
    {
        byte[] bytes = address.MapToIPv4().GetAddressBytes();
        return (bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3];
    }
}
