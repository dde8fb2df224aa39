using Conclave.Daemon.Configuration;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>spread.conf's LinkSegmentSize: split frames with UDP GSO (docs/daemon-link.md).</summary>
public sealed class LinkSegmentConfigurationTests
{
    private static DaemonRingOptions Build(string settings)
    {
        SpreadConfiguration conf = SpreadConfigurationParser.Parse("DaemonLinkEncryption = off\n" + settings + "\nSpread_Segment 10.77.0.255:4803 { d1 10.77.0.1 d2 10.77.0.2 }");
        DaemonRingOptions ring = RingConfiguration.Build(conf, conf.Find("d1")!, Path.GetTempPath(), null);
        ring.Validate();
        return ring;
    }

    [Fact]
    public void The_default_is_an_ethernet_frame_less_the_ip_and_udp_headers() =>
        Assert.Equal(1472, Build("").LinkSegmentSize);

    [Theory]
    [InlineData("0", 0)]
    [InlineData("1400", 1400)]
    [InlineData("8972", 8972)]
    public void A_size_or_zero_for_off_is_taken(string value, int expected) =>
        Assert.Equal(expected, Build($"LinkSegmentSize = {value}").LinkSegmentSize);

    [Theory]
    [InlineData("100")]
    [InlineData("70000")]
    [InlineData("-1")]
    [InlineData("big")]
    public void Anything_else_is_refused(string value) =>
        Assert.Throws<ArgumentException>(() => Build($"LinkSegmentSize = {value}"));
}
