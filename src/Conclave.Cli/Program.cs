using System.CommandLine;
using Conclave.Cli.Commands;

namespace Conclave.Cli;

internal static class Program
{
    /// <summary>
    /// Runs socket continuations on the event thread that saw them complete, instead of hopping to the
    /// thread pool: a message crosses the daemon with two thread switches fewer (round trip to self
    /// 54 → 26 µs over TCP on the 2-core reference machine, docs/benchmarks.md). Safe here because no
    /// continuation of ours blocks; a user's explicit setting wins.
    /// </summary>
    private const string InlineSocketCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static Task<int> Main(string[] args)
    {
        if (Environment.GetEnvironmentVariable(InlineSocketCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineSocketCompletions, "1");
        }

        var root = new RootCommand("Conclave: secure group communication (Spread-compatible daemon, client and tools).");
        // One file per subcommand under Commands/; each exposes a static Create().
        foreach (Command command in CommandCatalogue.All())
        {
            root.Subcommands.Add(command);
        }

        return root.Parse(args).InvokeAsync();
    }
}
