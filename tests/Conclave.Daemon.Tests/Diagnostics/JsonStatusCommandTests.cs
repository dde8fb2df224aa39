using System.Diagnostics;
using System.Text.Json;

namespace Conclave.Daemon.Tests.Diagnostics;

/// <summary>Status commands print JSON with --json, so nobody scrapes text.</summary>
public sealed class JsonStatusCommandTests
{
    private static async Task<(int Exit, string Output)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "conclave.dll"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(ClientSessions.Patience);
        string output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, output);
    }

    [Fact]
    public async Task Version_prints_a_json_object_with_json()
    {
        (int exit, string output) = await RunAsync("version", "--json");

        Assert.Equal(0, exit);
        using JsonDocument document = JsonDocument.Parse(output);
        Assert.Equal("4.4.0", document.RootElement.GetProperty("spreadProtocol").GetString());
        Assert.False(string.IsNullOrEmpty(document.RootElement.GetProperty("version").GetString()));
        Assert.StartsWith(".NET", document.RootElement.GetProperty("runtime").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_prints_one_line_of_text_without_json()
    {
        (int exit, string output) = await RunAsync("version");

        Assert.Equal(0, exit);
        Assert.Matches(@"^conclave \S+ \(Spread client protocol 4\.4\.0\)\s*$", output);
    }
}
