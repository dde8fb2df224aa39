using System.Diagnostics;

namespace Conclave.Daemon.Tests;

/// <summary>`conclave keygen` and the daemon's refusal to run a ring without a usable cluster key, as processes.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class KeyConfigurationProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("conclave-keys-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "conclave.dll"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        Task<string> output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        Task<string> error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    [Fact]
    public async Task Keygen_writes_an_owner_only_cluster_key_and_refuses_to_overwrite_it()
    {
        string path = Path.Combine(_dir, "cluster.key");

        (int first, string said, _) = await RunAsync("keygen", "--cluster", path);
        (int second, _, string refused) = await RunAsync("keygen", "--cluster", path);
        (int forced, string replaced, _) = await RunAsync("keygen", "--cluster", path, "--force");
        (int neither, _, string usage) = await RunAsync("keygen");

        Assert.Equal(0, first);
        Assert.Contains("cluster key written", said, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(1, second);
        Assert.Contains("already exists", refused, StringComparison.Ordinal);
        Assert.Equal(0, forced);
        Assert.Equal(2, neither);
        Assert.Contains("--cluster", usage, StringComparison.Ordinal);
        Assert.Contains($"key id {Conclave.Daemon.Network.ClusterKey.Load(path).KeyId:x8}", replaced, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ClusterKeyFile = missing.key", "cannot read the cluster key file")]
    [InlineData("", "daemon links must be sealed")]
    [InlineData("ClusterKeyFile = weak.key", "the key is weak")]
    [InlineData("DaemonLinkEncryption = maybe", "use on or off")]
    public async Task A_ring_without_a_usable_key_does_not_start(string setting, string reason)
    {
        File.WriteAllText(Path.Combine(_dir, "weak.key"), "conclave-cluster-key v1\n" + new string('0', 64) + "\n");
        File.SetUnixFileMode(Path.Combine(_dir, "weak.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        string conf = Path.Combine(_dir, "spread.conf");
        File.WriteAllText(conf, $"""
            {setting}
            Spread_Segment 127.0.0.1:4803 {"{"} d1 127.0.0.1 {"}"}
            Spread_Segment 127.0.0.2:4803 {"{"} d2 127.0.0.2 {"}"}
            """);

        (int exit, _, string error) = await RunAsync("daemon", "-c", conf, "-n", "d1", "--port", "0", "--no-unix-socket");

        Assert.Equal(2, exit);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
