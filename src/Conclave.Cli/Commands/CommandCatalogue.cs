using System.CommandLine;

namespace Conclave.Cli.Commands;

/// <summary>Every `conclave` subcommand, in help order. Add one line per new command file.</summary>
internal static class CommandCatalogue
{
    public static IEnumerable<Command> All()
    {
        yield return DaemonCommand.Create();
        yield return UserCommand.Create();
        yield return DemoCommand.Create();
        yield return FloodCommand.Create();
        yield return MonitorCommand.Create();
        yield return BenchCommand.Create();
        yield return SimCommand.Create();
        yield return KeygenCommand.Create();
        yield return VersionCommand.Create();
    }
}
