using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Conclave.Client.Tests.Secure;

/// <summary>`conclave demo` as a process: every step ends with the same key fingerprint at every member, and keys change from step to step.</summary>
public sealed partial class DemoProcessTests
{
    [Theory]
    [InlineData("gdh", "aes")]
    [InlineData("ckd", "chacha")]
    public async Task The_demo_prints_one_converged_key_per_step(string protocol, string aead)
    {
        var start = new ProcessStartInfo("dotnet", $"{Path.Combine(AppContext.BaseDirectory, "conclave.dll")} demo --protocol {protocol} --aead {aead}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        Task<string> stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        string output = await stdout;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{output}\n{await stderr}");
        Assert.Contains("demo: every step converged to one key per view", output);

        // Per step: the member lines' fingerprints agree with the step's "converged" line.
        string[] steps = output.ReplaceLineEndings("\n").Split("\nstep ")[1..];
        Assert.Equal(6, steps.Length);
        var keys = new List<string>();
        foreach (string step in steps)
        {
            string[] memberKeys = [.. MemberKey().Matches(step).Select(m => m.Groups[1].Value)];
            string converged = Converged().Match(step).Groups[1].Value;
            Assert.NotEmpty(memberKeys);
            Assert.All(memberKeys, k => Assert.Equal(converged, k));
            keys.Add(converged);
        }

        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Contains("Refresh", steps[5]);
        Assert.Contains("bob (gone) got nothing", steps[2]);
    }

    [GeneratedRegex(@"@d\d\s+key ([0-9a-f]{16})")]
    private static partial Regex MemberKey();

    [GeneratedRegex(@"converged: \d+ member\(s\), one key ([0-9a-f]{16})")]
    private static partial Regex Converged();
}
