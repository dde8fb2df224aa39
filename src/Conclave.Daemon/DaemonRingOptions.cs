using System.Net;
using Conclave.Daemon.Network;
using Conclave.Protocol.Ring;

namespace Conclave.Daemon;

/// <summary>
/// How a daemon joins the ring of its configuration: every daemon's UDP endpoint, the cluster key
/// that seals the links, the ring timers and where the ring's sequence survives restarts.
/// </summary>
public sealed record DaemonRingOptions
{
    /// <summary>Every daemon's UDP endpoint, in configuration order (this daemon's included): node id = index + 1.</summary>
    public required IReadOnlyList<IPEndPoint> Endpoints { get; init; }

    /// <summary>The cluster key that seals every packet; null only together with <see cref="Plaintext"/>.</summary>
    public ClusterKey? Key { get; init; }

    /// <summary>True when the configuration asked for plaintext links explicitly.</summary>
    public bool Plaintext { get; init; }

    /// <summary>Ring timers and flow-control constants.</summary>
    public RingOptions Timers { get; init; } = new();

    /// <summary>
    /// Default <see cref="FragmentSize"/>. The cost of a ring packet is mostly per packet (system calls,
    /// wake-ups, sealing setup), so big payloads carry more for the same CPU: 30 KB took a 10 KB
    /// message's CPU from 214 to 106 µs over 8 KB (3 daemons on loopback, docs/benchmarks.md). On a
    /// 1500-byte link such a packet leaves as a split frame of <see cref="LinkSegmentSize"/> segments
    /// (or IP fragments with segmentation off), and losing any piece loses it: on a lossy network choose ~1400.
    /// </summary>
    public const int DefaultFragmentSize = 30_000;

    /// <summary>Largest chunk of a message per ring payload; larger messages are fragmented.</summary>
    public int FragmentSize { get; init; } = DefaultFragmentSize;

    /// <summary>
    /// Default <see cref="LinkSegmentSize"/>: a 1500-byte Ethernet frame less the IPv4 and UDP headers.
    /// </summary>
    public const int DefaultLinkSegmentSize = 1_472;

    /// <summary>
    /// Link packets longer than this many bytes leave as split frames of segments this long, all in one
    /// system call with UDP GSO (docs/daemon-link.md), instead of one datagram cut into IP fragments; 0 sends
    /// every packet whole. Must not exceed the path MTU less 28 (IPv4) bytes: the kernel refuses larger
    /// segments, and the daemon then falls back to whole packets (logged).
    /// </summary>
    public int LinkSegmentSize { get; init; } = DefaultLinkSegmentSize;

    /// <summary>Directory of the state file holding the ring sequence and incarnation.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>
    /// This daemon's segment multicast group when its segment address is a multicast address (one
    /// send per ring broadcast to the segment's daemons); null to unicast every broadcast to each daemon.
    /// </summary>
    public Configuration.SegmentMulticast? Multicast { get; init; }

    /// <summary>A file to append ring trace events to (docs/trace-format.md), for the EVS checker; null for none.</summary>
    public string? TracePath { get; init; }

    /// <summary>Throws if the options cannot work.</summary>
    public void Validate()
    {
        if (Key is null && !Plaintext)
        {
            throw new ArgumentException("Daemon links need a cluster key (ClusterKeyFile) unless plaintext is configured explicitly (DaemonLinkEncryption = off).");
        }

        if (Endpoints.Count < 1)
        {
            throw new ArgumentException("The ring needs at least one daemon endpoint.");
        }

        if (FragmentSize < 64 || FragmentSize + 64 > Timers.MaxPayload)
        {
            throw new ArgumentException($"FragmentSize must be between 64 and {Timers.MaxPayload - 64} bytes.");
        }

        if (LinkSegmentSize != 0 && (LinkSegmentSize < Network.LinkFrames.MinSegment || LinkSegmentSize > 65_000))
        {
            throw new ArgumentException($"LinkSegmentSize must be 0 (off) or between {Network.LinkFrames.MinSegment} and 65000 bytes.");
        }

        Timers.Validate();
    }
}
