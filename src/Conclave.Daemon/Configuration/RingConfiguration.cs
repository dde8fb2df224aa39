using System.Net;
using Conclave.Daemon.Network;
using Conclave.Protocol.Ring;

namespace Conclave.Daemon.Configuration;

/// <summary>Builds a daemon's <see cref="DaemonRingOptions"/> from its spread.conf.</summary>
public static class RingConfiguration
{
    /// <summary>
    /// The ring options of <paramref name="self"/>: each daemon's first D address on its segment's
    /// port, the cluster key (ClusterKeyFile) or explicit plaintext (DaemonLinkEncryption = off), and
    /// the timers. Spread's membership timeouts map to the ring's: TokenTimeout → token,
    /// HurryTimeout → token retransmit (below token), JoinTimeout → join, GatherTimeout → consensus
    /// (above token), AliveTimeout → merge detection; without them the ring's LAN defaults apply.
    /// </summary>
    /// <exception cref="ArgumentException">The link security settings are missing or contradictory.</exception>
    /// <exception cref="ClusterKeyException">The key file is missing, unreadable, exposed or weak.</exception>
    public static DaemonRingOptions Build(SpreadConfiguration configuration, DaemonEntry self, string stateDirectory, string? baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(self);
        configuration.Settings.TryGetValue("DaemonLinkEncryption", out string? encryption);
        configuration.Settings.TryGetValue("ClusterKeyFile", out string? keyFile);
        bool plaintext = encryption is not null && encryption.ToUpperInvariant() is "OFF" or "NO" or "FALSE" or "PLAINTEXT";
        if (encryption is not null && !plaintext && encryption.ToUpperInvariant() is not ("ON" or "YES" or "TRUE" or "AES-256-GCM"))
        {
            throw new ArgumentException($"DaemonLinkEncryption = {encryption}: use on or off");
        }

        ClusterKey? key = null;
        if (plaintext && keyFile is not null)
        {
            throw new ArgumentException("both ClusterKeyFile and DaemonLinkEncryption = off are set; choose one");
        }

        if (!plaintext)
        {
            if (keyFile is null)
            {
                throw new ArgumentException("daemon links must be sealed: set ClusterKeyFile = FILE (made by 'conclave keygen --cluster FILE'), or DaemonLinkEncryption = off for plaintext links");
            }

            string path = baseDirectory is null ? keyFile : Path.Combine(baseDirectory, keyFile);
            key = ClusterKey.Load(path);
        }

        return new DaemonRingOptions
        {
            Endpoints = [.. configuration.Daemons.Select(d => new IPEndPoint(d.DaemonAddresses[0], configuration.SegmentOf(d).Port))],
            Key = key,
            Plaintext = plaintext,
            Timers = Timers(configuration),
            FragmentSize = configuration.IntSetting("FragmentSize", DaemonRingOptions.DefaultFragmentSize),
            LinkSegmentSize = SegmentSetting(configuration),
            StateDirectory = stateDirectory,
            Multicast = MulticastOf(configuration, self),
        };
    }

    /// <summary>
    /// The segment's multicast group when its address is a multicast address and it has other daemons
    /// (as Spread, which multicasts within a segment only then); otherwise null: unicast to each daemon.
    /// </summary>
    private static SegmentMulticast? MulticastOf(SpreadConfiguration configuration, DaemonEntry self)
    {
        SpreadSegment segment = configuration.SegmentOf(self);
        if (!SegmentMulticast.IsMulticast(segment.Address) || segment.Daemons.Count < 2)
        {
            return null;
        }

        uint[] members = [.. segment.Daemons.Select(d => (uint)(configuration.Daemons.ToList().IndexOf(d) + 1))];
        return new SegmentMulticast(new IPEndPoint(segment.Address, segment.Port), self.DaemonAddresses[0], members);
    }

    /// <summary>LinkSegmentSize: a whole number of bytes, 0 for off (so not one of the positive integer keywords).</summary>
    private static int SegmentSetting(SpreadConfiguration configuration)
    {
        if (!configuration.Settings.TryGetValue("LinkSegmentSize", out string? text))
        {
            return DaemonRingOptions.DefaultLinkSegmentSize;
        }

        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int size)
            || (size != 0 && (size < Network.LinkFrames.MinSegment || size > 65_000)))
        {
            throw new ArgumentException($"LinkSegmentSize = {text} must be 0 (off) or a number of bytes from {Network.LinkFrames.MinSegment} to 65000");
        }

        return size;
    }

    /// <summary>TokenHoldTimeoutUs: a whole number of microseconds, 0 for never (so not one of the positive integer keywords).</summary>
    private static long HoldSetting(SpreadConfiguration configuration, long defaultUs)
    {
        if (!configuration.Settings.TryGetValue("TokenHoldTimeoutUs", out string? text))
        {
            return defaultUs;
        }

        if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long us))
        {
            throw new ArgumentException($"TokenHoldTimeoutUs = {text}: use a whole number of microseconds (0: never hold the token)");
        }

        return us;
    }

    private static RingOptions Timers(SpreadConfiguration configuration)
    {
        var defaults = new RingOptions();
        RingOptions options = defaults with
        {
            WindowSize = configuration.IntSetting("Window", defaults.WindowSize),
            MaxMessages = configuration.IntSetting("PersonalWindow", defaults.MaxMessages),
            // Not a Spread setting: how long (µs) an idle ring's token may rest (0: never; ring-protocol.md §1.8).
            TokenHoldTimeoutUs = HoldSetting(configuration, defaults.EffectiveTokenHoldUs),
            SeqUnchangedConst = configuration.IntSetting("TokenHoldAfterIdleVisits", defaults.SeqUnchangedConst),
            TokenKeepMaxMessages = configuration.IntSetting("TokenKeepMaxMessages", defaults.TokenKeepMaxMessages),
        };
        if (!configuration.Settings.ContainsKey("TokenTimeout"))
        {
            return options;
        }

        long token = configuration.IntSetting("TokenTimeout", 0) * 1000L;
        long hurry = configuration.IntSetting("HurryTimeout", 0) * 1000L;
        long join = configuration.IntSetting("JoinTimeout", 0) * 1000L;
        long gather = configuration.IntSetting("GatherTimeout", 0) * 1000L;
        return options with
        {
            TokenTimeoutUs = token,
            TokenRetransmitTimeoutUs = hurry < token ? hurry : token / 4,
            JoinTimeoutUs = join,
            ConsensusTimeoutUs = Math.Max(gather, token + join),
            MergeTimeoutUs = configuration.IntSetting("AliveTimeout", 0) * 1000L,
        };
    }
}
