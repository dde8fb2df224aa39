using System.CommandLine;
using System.Text.Json;
using Conclave.Client;
using Conclave.Protocol.Spread;

namespace Conclave.Cli.Commands;

/// <summary>
/// `conclave flood`: a load generator like spflooder. N messages of S bytes per sender to one group,
/// through one or more in-process sender and receiver sessions; reports msg/s, MB/s and round-trip
/// latency percentiles, timed until the last message has reached every session.
/// </summary>
internal static class FloodCommand
{
    public static Command Create()
    {
        var spread = new Option<string>("--spread", "-s") { Description = "Daemon: PORT@HOST (TCP), PORT (Unix socket /tmp/PORT) or empty for 4803.", DefaultValueFactory = _ => "4803" };
        var count = new Option<int>("--count", "-n") { Description = "Messages each sender sends.", DefaultValueFactory = _ => 100_000 };
        var size = new Option<int>("--size", "-b") { Description = "Body bytes per message (at least 16: sender, sequence and send time travel in the body).", DefaultValueFactory = _ => 1000 };
        var service = new Option<string>("--service") { Description = "unreliable, reliable, fifo, causal, agreed or safe.", DefaultValueFactory = _ => "agreed" };
        var group = new Option<string>("--group", "-g") { Description = "Group to flood.", DefaultValueFactory = _ => "flood" };
        var senders = new Option<int>("--senders") { Description = "Sending sessions (each also receives everything, its own messages give the round trip).", DefaultValueFactory = _ => 1 };
        var receivers = new Option<int>("--receivers") { Description = "Sessions that only receive.", DefaultValueFactory = _ => 1 };
        var window = new Option<int>("--window", "-w") { Description = "Messages in flight: sent but not yet received by every session. Spread kills a session with 1,000 unread messages, so keep it well below.", DefaultValueFactory = _ => 256 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };

        var command = new Command("flood", "Load generator (like spflooder): throughput and round-trip latency through a Spread-compatible daemon.")
        {
            spread, count, size, service, group, senders, receivers, window, json,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var options = new FloodOptions(
                parse.GetValue(spread),
                parse.GetValue(group)!,
                parse.GetValue(count),
                parse.GetValue(size),
                UserShell.TryParseService(parse.GetValue(service)!, out ServiceType chosen) ? chosen : ServiceType.None,
                parse.GetValue(senders),
                parse.GetValue(receivers),
                parse.GetValue(window));
            if (options.Problem() is string problem)
            {
                await Console.Error.WriteLineAsync($"conclave flood: {problem}");
                return 2;
            }

            FloodResult result;
            try
            {
                result = await FloodRun.RunAsync(options, cancellation);
            }
            catch (SpreadException e)
            {
                await Console.Error.WriteLineAsync($"conclave flood: {e.Message} ({(int)e.Error})");
                return 1;
            }

            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(result, FloodJson.Default.FloodResult) : result.ToText());
            return 0;
        });
        return command;
    }
}
