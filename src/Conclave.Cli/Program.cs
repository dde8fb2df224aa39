using System.CommandLine;

namespace Conclave.Cli;

internal static class Program
{
    public static Task<int> Main(string[] args)
    {
        var root = new RootCommand("Conclave: secure group communication (Spread-compatible daemon, client and tools).");
        return root.Parse(args).InvokeAsync();
    }
}
