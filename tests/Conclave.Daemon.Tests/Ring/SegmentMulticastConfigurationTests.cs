using System.Net;
using Conclave.Daemon.Configuration;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>Which ring broadcasts a spread.conf sends to a multicast group, and which stay unicast.</summary>
public sealed class SegmentMulticastConfigurationTests
{
    private static DaemonRingOptions Build(string segments, string self)
    {
        SpreadConfiguration conf = SpreadConfigurationParser.Parse("DaemonLinkEncryption = off\n" + segments);
        return RingConfiguration.Build(conf, conf.Find(self)!, Path.GetTempPath(), null);
    }

    [Fact]
    public void A_multicast_segment_address_sends_the_segments_broadcasts_to_its_group_on_the_daemons_interface()
    {
        DaemonRingOptions ring = Build("Spread_Segment 239.192.77.1:4803 { d1 10.77.0.1 d2 10.77.0.2 d3 10.77.0.3 }", "d2");

        SegmentMulticast multicast = Assert.IsType<SegmentMulticast>(ring.Multicast);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("239.192.77.1"), 4803), multicast.Group);
        Assert.Equal(IPAddress.Parse("10.77.0.2"), multicast.Interface);
        Assert.Equal([1u, 2u, 3u], multicast.Members);
        Assert.Equal(3, ring.Endpoints.Count); // Tokens are still unicast to each daemon's own endpoint.
    }

    [Theory]
    [InlineData("Spread_Segment 10.77.0.255:4803 { d1 10.77.0.1 d2 10.77.0.2 }")] // broadcast-style
    [InlineData("Spread_Segment 10.77.0.1:4803 { d1 10.77.0.1 d2 10.77.0.2 }")] // plain unicast
    [InlineData("Spread_Segment 239.192.77.1:4803 { d1 10.77.0.1 }\nSpread_Segment 239.192.77.2:4803 { d2 10.77.0.2 }")] // alone in its segment
    public void Other_segments_stay_unicast(string segments) => Assert.Null(Build(segments, "d1").Multicast);

    [Fact]
    public void Daemons_of_other_segments_are_not_reached_by_the_group()
    {
        DaemonRingOptions ring = Build("""
            Spread_Segment 239.192.77.1:4803 { d1 10.77.0.1 d2 10.77.0.2 }
            Spread_Segment 10.78.0.255:4803 { d3 10.78.0.3 }
            """, "d1");

        SegmentMulticast multicast = Assert.IsType<SegmentMulticast>(ring.Multicast);
        Assert.True(multicast.Reaches(2));
        Assert.False(multicast.Reaches(3));
    }

    [Theory]
    [InlineData("224.0.0.0", true)]
    [InlineData("239.255.255.255", true)]
    [InlineData("223.255.255.255", false)]
    [InlineData("240.0.0.1", false)]
    [InlineData("ff02::1", false)] // Spread's segments are IPv4.
    public void Only_ipv4_class_d_addresses_are_multicast(string address, bool multicast) =>
        Assert.Equal(multicast, SegmentMulticast.IsMulticast(IPAddress.Parse(address)));
}
