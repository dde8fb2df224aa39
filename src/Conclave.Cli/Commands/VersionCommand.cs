using System.CommandLine;
using System.Reflection;

namespace Conclave.Cli.Commands;

/// <summary>`conclave version`: prints the tool's version and the Spread protocol version it speaks.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print Conclave's version and the Spread client protocol version it speaks.");
        command.SetAction(_ =>
        {
            string version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            Console.WriteLine($"conclave {version} (Spread client protocol 4.4.0)");
            return 0;
        });
        return command;
    }
}
