using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Conclave.Cli.Commands;

/// <summary>`conclave version [--json]`: prints the tool's version and the Spread protocol version it speaks.</summary>
internal static class VersionCommand
{
    private const string SpreadProtocol = "4.4.0";

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the versions as a JSON object." };
        var command = new Command("version", "Print Conclave's version and the Spread client protocol version it speaks.") { json };
        command.SetAction(parse =>
        {
            string version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            if (parse.GetValue(json))
            {
                using var writer = new Utf8JsonWriter(Console.OpenStandardOutput(), new JsonWriterOptions { Indented = true });
                writer.WriteStartObject();
                writer.WriteString("version", version);
                writer.WriteString("spreadProtocol", SpreadProtocol);
                writer.WriteString("runtime", RuntimeInformation.FrameworkDescription);
                writer.WriteEndObject();
                writer.Flush();
                Console.WriteLine();
            }
            else
            {
                Console.WriteLine($"conclave {version} (Spread client protocol {SpreadProtocol})");
            }

            return 0;
        });
        return command;
    }
}
