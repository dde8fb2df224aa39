namespace Conclave.Distribution.Tests;

/// <summary>The packed Conclave.Client installs from a local feed into a fresh project, which then talks to a daemon.</summary>
public sealed class PackageSmokeTests
{
    [Fact]
    public async Task Packed_client_installs_into_a_fresh_project_that_exchanges_a_message_with_a_daemon()
    {
        await using LocalDaemon daemon = LocalDaemon.Start();
        (int exit, string output) = await Scripts.RunAsync("scripts/package-smoke.sh", TimeSpan.FromMinutes(5), new Dictionary<string, string>(), daemon.SpreadName);
        Assert.True(exit == 0, output);
        Assert.Contains("received 'hello from a package' from #pkgsmoke#localhost", output, StringComparison.Ordinal);
        Assert.Contains("package smoke: OK", output, StringComparison.Ordinal);
        Assert.True(daemon.Daemon.Statistics.SessionsAccepted >= 1, "the app connected to this test's daemon");
    }
}
