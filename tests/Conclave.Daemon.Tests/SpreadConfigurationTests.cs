using System.Net;
using Conclave.Daemon.Configuration;

namespace Conclave.Daemon.Tests;

public sealed class SpreadConfigurationTests
{
    [Fact]
    public void Parses_segments_daemons_interfaces_and_settings_in_order()
    {
        SpreadConfiguration conf = SpreadConfigurationParser.Parse("""
            # three one-daemon segments, as Spread needs on one host
            EventLogFile = "/tmp/spread.log"
            DebugFlags = { PRINT EXIT }
            MaxSessionMessages = 2000
            Window = 200
            PersonalWindow = 30
            Spread_Segment 127.0.0.1:4903 { d1 127.0.0.1 { D 127.0.0.1  C 127.0.0.1 } }
            Spread_Segment 127.0.0.2:4903 {
                d2 127.0.0.2 { D 127.0.0.2
                               C 127.0.0.2 }
            }
            Spread_Segment 127.0.0.3 { d3 127.0.0.3 }
            """);

        Assert.Equal(["d1", "d2", "d3"], conf.Daemons.Select(d => d.Name));
        Assert.Equal(4903, conf.SegmentOf(conf.Daemons[1]).Port);
        Assert.Equal(4803, conf.SegmentOf(conf.Daemons[2]).Port);
        Assert.Equal([IPAddress.Parse("127.0.0.2")], conf.Daemons[1].ClientAddresses);
        Assert.Equal(2000, conf.MaxSessionMessages);
        Assert.Equal(200, conf.Window);
        Assert.Equal(30, conf.PersonalWindow);
        Assert.Equal("/tmp/spread.log", conf.Settings["EventLogFile"]);
    }

    [Theory]
    [InlineData("Spread_Segment 127.0.0.255:4803 { a 127.0.0.1 a 127.0.0.2 }", "appears twice")]
    [InlineData("Spread_Segment 127.0.0.255:4803 { a 127.0.0.1 ", "unexpected end of file")]
    [InlineData("Spread_Segment 127.0.0.255:99999 { a 127.0.0.1 }", ":1: '127.0.0.255:99999' has no valid port")]
    [InlineData("Spread_Segment 127.0.0.255 { abcdefghijklmnopqrstu 127.0.0.1 }", "must be 1..19 characters")]
    [InlineData("Bogus = 1\nSpread_Segment 127.0.0.255 { a 127.0.0.1 }", ":1: unknown keyword 'Bogus'")]
    [InlineData("TokenTimeout = 100\nSpread_Segment 127.0.0.255 { a 127.0.0.1 }", "all must be")]
    [InlineData("Window = -3\nSpread_Segment 127.0.0.255 { a 127.0.0.1 }", "not a positive integer")]
    [InlineData("PersonalWindow = 5\nSpread_Segment 127.0.0.255 { a 127.0.0.1 }", "AcceleratedWindow must not exceed PersonalWindow")]
    [InlineData("MaxSessionMessages = 10", "no Spread_Segment")]
    [InlineData("Spread_Segment 127.0.0.255 { a 127.0.0.1 { X 127.0.0.1 } }", "'X' is not a dotted IPv4 address")]
    public void Rejects_bad_configurations_with_a_clear_message(string text, string expected)
    {
        var error = Assert.Throws<SpreadConfigurationException>(() => SpreadConfigurationParser.Parse(text));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_configuration_is_one_daemon_on_loopback()
    {
        DaemonEntry only = Assert.Single(SpreadConfiguration.Default.Daemons);

        Assert.Equal("localhost", only.Name);
        Assert.Equal([IPAddress.Loopback], only.ClientAddresses);
    }
}
