using Conclave.Daemon.Network;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>
/// The spread.conf of the three-daemon process tests: a fresh cluster key and timers short enough that
/// membership changes settle within a test's patience, with the segments each layout needs.
/// </summary>
internal static class RingTestConfiguration
{
    /// <summary>Three daemons on 127.0.0.1–3, one segment each, on a free UDP port.</summary>
    public static string Loopback(string directory)
    {
        int port = RingDaemonProcess.FreeUdpPort();
        return Write(directory, $$"""
            Spread_Segment 127.0.0.1:{{port}} {
                d1 127.0.0.1 { D 127.0.0.1 C 127.0.0.1 }
            }
            Spread_Segment 127.0.0.2:{{port}} {
                d2 127.0.0.2 { D 127.0.0.2 C 127.0.0.2 }
            }
            Spread_Segment 127.0.0.3:{{port}} {
                d3 127.0.0.3 { D 127.0.0.3 C 127.0.0.3 }
            }
            """);
    }

    /// <summary>Three daemons on <see cref="NetnsLab"/>'s 10.77.0.1–3, one segment at <paramref name="segment"/> (broadcast or multicast).</summary>
    public static string Netns(string directory, string segment = "10.77.0.255:4803") =>
        Write(directory, $$"""
            Spread_Segment {{segment}} {
                d1 10.77.0.1
                d2 10.77.0.2
                d3 10.77.0.3
            }
            """);

    private static string Write(string directory, string segments)
    {
        ClusterKey.Generate().Save(Path.Combine(directory, "cluster.key"), overwrite: true);
        string conf = Path.Combine(directory, "spread.conf");
        File.WriteAllText(conf, """
            ClusterKeyFile = cluster.key
            TokenTimeout = 1000
            HurryTimeout = 250
            AliveTimeout = 500
            JoinTimeout = 100
            RepTimeout = 500
            SegTimeout = 500
            GatherTimeout = 1200
            FormTimeout = 1200
            LookupTimeout = 30000
            """ + "\n" + segments);
        return conf;
    }
}
