using System.CommandLine;
using Conclave.Cli.Commands;

namespace Conclave.Cli;

internal static class Program
{
    public static Task<int> Main(string[] args)
    {
        var root = new RootCommand("Conclave: secure group communication (Spread-compatible daemon, client and tools).");
        // One file per subcommand under Commands/; each exposes a static Create().
        foreach (Command command in CommandCatalogue.All())
        {
            root.Subcommands.Add(command);
        }

        return root.Parse(args).InvokeAsync();
    }
}
