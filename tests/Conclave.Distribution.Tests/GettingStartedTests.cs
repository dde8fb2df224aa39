using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Conclave.Distribution.Tests;

/// <summary>docs/getting-started.md, step by step, as scripts/getting-started.sh runs it.</summary>
public sealed class GettingStartedTests
{
    [Fact]
    public async Task Getting_started_ends_in_a_secure_chat_across_three_daemons()
    {
        (int exit, string output) = await Scripts.RunAsync(
            "scripts/getting-started.sh",
            TimeSpan.FromMinutes(5),
            new Dictionary<string, string>
            {
                ["PORT"] = FreePort(SocketType.Dgram, ProtocolType.Udp),
                ["CLIENT_PORT"] = FreePort(SocketType.Stream, ProtocolType.Tcp),
                ["SKIP_BUILD"] = "1", // the test run built the solution, samples and conclave included
            });
        Assert.True(exit == 0, output);
        Assert.Contains("getting started: OK (secure chat across three daemons", output, StringComparison.Ordinal);
        foreach (string reader in new[] { "alice", "bob", "carol" })
        {
            Assert.Contains($"--- {reader}", output, StringComparison.Ordinal);
        }
    }

    /// <summary>A port free on every address now (the daemons share it on 127.0.0.1/.2/.3).</summary>
    private static string FreePort(SocketType type, ProtocolType protocol)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, type, protocol);
        probe.Bind(new IPEndPoint(IPAddress.Any, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture);
    }
}
