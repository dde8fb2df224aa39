using System.CommandLine;

namespace Conclave.Cli.Commands;

/// <summary>`conclave bench …`: the paper's experiments and the daemon's benchmarks, one subcommand each.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Run benchmarks (key agreement cost, daemon memory) and regenerate their documents and plots.");
        command.Subcommands.Add(BenchKxCommand.Create());
        command.Subcommands.Add(BenchSessionsCommand.Create());
        command.Subcommands.Add(BenchGroupsCommand.Create());
        return command;
    }
}
