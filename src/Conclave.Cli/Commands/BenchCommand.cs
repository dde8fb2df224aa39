using System.CommandLine;

namespace Conclave.Cli.Commands;

/// <summary>`conclave bench …`: the project's end-to-end benchmarks, one subcommand each.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks: key agreement cost, daemon memory, throughput.");
        command.Subcommands.Add(BenchSessionsCommand.Create());
        return command;
    }
}
