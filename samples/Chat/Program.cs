using System.CommandLine;
using Conclave.Samples.Chat;

// Chat: every line typed is multicast (AGREED) to the group; everyone's lines and the group's membership
// changes are printed. Ctrl+D (end of input) leaves.
var daemon = new Option<string>("--daemon", "-s") { Description = "The daemon: PORT@HOST, or PORT for its Unix socket.", DefaultValueFactory = _ => "4803@127.0.0.1" };
var name = new Option<string>("--name", "-u") { Description = "Your session name (at most 10 characters).", DefaultValueFactory = _ => Environment.UserName.Length > 10 ? Environment.UserName[..10] : Environment.UserName };
var group = new Option<string>("--group", "-g") { Description = "The chat room (a group name).", DefaultValueFactory = _ => "chat" };
var waitMembers = new Option<int>("--wait-members") { Description = "Hold your lines until the room has this many members.", DefaultValueFactory = _ => 1 };
var exitAfter = new Option<int>("--exit-after") { Description = "After the end of input, stay until this many lines from others arrived (for scripts).", DefaultValueFactory = _ => 0 };
var root = new RootCommand("Conclave sample: a chat room on a Spread group.") { daemon, name, group, waitMembers, exitAfter };
root.SetAction(async (parse, cancellation) =>
{
    try
    {
        return await ChatSession.RunAsync(
            new ChatOptions(parse.GetValue(daemon)!, parse.GetValue(name)!, parse.GetValue(group)!, parse.GetValue(waitMembers), parse.GetValue(exitAfter)),
            Console.In,
            Console.Out,
            cancellation);
    }
    catch (Conclave.Client.SpreadException e)
    {
        await Console.Error.WriteLineAsync($"chat: {e.Message}");
        return 1;
    }
});
return await root.Parse(args).InvokeAsync();
