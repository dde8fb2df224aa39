using System.CommandLine;
using Conclave.Crypto.KeyAgreement;
using Conclave.Samples.SecureChat;

// Secure chat: like the chat sample, but the room is a Secure Spread group. Every membership change gets
// a fresh group key by contributory key agreement among exactly the members, and every line is sealed
// (AES-256-GCM) under the current key. Members authenticate with their Ed25519 key files.
var daemon = new Option<string>("--daemon", "-s") { Description = "The daemon: PORT@HOST, or PORT for its Unix socket.", DefaultValueFactory = _ => "4803@127.0.0.1" };
var name = new Option<string>("--name", "-u") { Description = "Your session name (at most 10 characters); your member name is #NAME#DAEMON.", Required = true };
var group = new Option<string>("--group", "-g") { Description = "The secure room (a group name).", DefaultValueFactory = _ => "secure-chat" };
var key = new Option<FileInfo>("--key") { Description = "Your member key file (conclave keygen --member FILE).", Required = true };
var trust = new Option<FileInfo>("--trust") { Description = "The trusted members: one '#name#daemon BASE64-PUBLIC-KEY' per line.", Required = true };
var protocol = new Option<KeyAgreementProtocol>("--protocol") { Description = "Key agreement: Gdh, Ckd or Tgdh.", DefaultValueFactory = _ => KeyAgreementProtocol.Tgdh };
var waitMembers = new Option<int>("--wait-members") { Description = "Hold your lines until a keyed view has this many members.", DefaultValueFactory = _ => 1 };
var exitAfter = new Option<int>("--exit-after") { Description = "After the end of input, stay until this many lines from others arrived (for scripts).", DefaultValueFactory = _ => 0 };
var root = new RootCommand("Conclave sample: a chat room on a Secure Spread group.") { daemon, name, group, key, trust, protocol, waitMembers, exitAfter };
root.SetAction(async (parse, cancellation) =>
{
    try
    {
        var options = new SecureChatOptions(
            parse.GetValue(daemon)!, parse.GetValue(name)!, parse.GetValue(group)!, parse.GetValue(protocol),
            parse.GetValue(key)!.FullName, parse.GetValue(trust)!.FullName, parse.GetValue(waitMembers), parse.GetValue(exitAfter));
        return await SecureChatSession.RunAsync(options, Console.In, Console.Out, cancellation);
    }
    catch (Exception e) when (e is Conclave.Client.SpreadException or IOException or FormatException)
    {
        await Console.Error.WriteLineAsync($"secure-chat: {e.Message}");
        return 1;
    }
});
return await root.Parse(args).InvokeAsync();
