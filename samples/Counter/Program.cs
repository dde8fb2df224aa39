using System.CommandLine;
using Conclave.Samples.Counter;

// Replicated counter on the Flush (view synchrony) layer: each input line is a number added to the
// counter; every replica applies the same additions in the same order, and a replica that joins (or
// comes back from another partition) takes the value from the view's first member.
var daemon = new Option<string>("--daemon", "-s") { Description = "The daemon: PORT@HOST, or PORT for its Unix socket.", DefaultValueFactory = _ => "4803@127.0.0.1" };
var name = new Option<string>("--name", "-u") { Description = "This replica's session name (at most 10 characters).", Required = true };
var group = new Option<string>("--group", "-g") { Description = "The counter (a group name).", DefaultValueFactory = _ => "counter" };
var waitMembers = new Option<int>("--wait-members") { Description = "Hold additions until the view has this many replicas.", DefaultValueFactory = _ => 1 };
var exitAt = new Option<long?>("--exit-at") { Description = "After the end of input, stay until the counter reaches this value (for scripts)." };
var root = new RootCommand("Conclave sample: a counter replicated with view synchrony.") { daemon, name, group, waitMembers, exitAt };
root.SetAction(async (parse, cancellation) =>
{
    try
    {
        var options = new CounterOptions(parse.GetValue(daemon)!, parse.GetValue(name)!, parse.GetValue(group)!, parse.GetValue(waitMembers), parse.GetValue(exitAt));
        return await CounterReplica.RunAsync(options, Console.In, Console.Out, cancellation);
    }
    catch (Exception e) when (e is Conclave.Client.SpreadException or FormatException)
    {
        await Console.Error.WriteLineAsync($"counter: {e.Message}");
        return 1;
    }
});
return await root.Parse(args).InvokeAsync();
