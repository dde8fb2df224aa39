using System.CommandLine;

namespace Conclave.Cli.Commands;

/// <summary>`conclave bench …`: the paper's experiments, one subcommand per experiment.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Run benchmarks and regenerate their documents and plots.");
        command.Subcommands.Add(BenchKxCommand.Create());
        return command;
    }
}
