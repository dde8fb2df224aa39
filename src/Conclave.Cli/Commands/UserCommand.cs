using System.CommandLine;
using Conclave.Client;
using Conclave.Protocol.Spread;

namespace Conclave.Cli.Commands;

/// <summary>
/// `conclave user`: an interactive client in the spirit of Spread's spuser, scriptable from stdin.
/// Commands are listed by <see cref="UserShell.Help"/>.
/// </summary>
internal static class UserCommand
{
    public static Command Create()
    {
        var user = new Option<string>("--user", "-u") { Description = "Private name to ask for (at most 10 bytes); empty lets the daemon generate one.", DefaultValueFactory = _ => string.Empty };
        var spread = new Option<string>("--spread", "-s") { Description = "Daemon: PORT@HOST (TCP), PORT (Unix socket /tmp/PORT) or empty for 4803, as libspread reads it.", DefaultValueFactory = _ => "4803" };
        var service = new Option<string>("--service") { Description = "Service of 's' and 'm' sends: unreliable, reliable, fifo, causal, agreed or safe (default safe, as spuser).", DefaultValueFactory = _ => "safe" };
        var messageType = new Option<short>("--type") { Description = "16-bit message type of sends (default 1, as spuser).", DefaultValueFactory = _ => 1 };
        var noMembership = new Option<bool>("--no-membership") { Description = "Do not ask for membership messages." };
        var manual = new Option<bool>("--manual") { Description = "Start with automatic printing off: messages wait until 'r' (toggle with 'e' / 'd')." };

        var secure = new Option<string?>("--secure") { Description = "Secure groups (Secure Spread) with this key agreement module: gdh, ckd or tgdh. Needs --member-key and --trust." };
        var memberKey = new Option<FileInfo?>("--member-key") { Description = "This member's Ed25519 key file (conclave keygen --member FILE)." };
        var trust = new Option<FileInfo?>("--trust") { Description = "Trust file: one '#name#daemon BASE64-PUBLIC-KEY' per allowed member; others are left out of the key." };
        var aead = new Option<string>("--aead") { Description = "Secure groups' encryption: aes (AES-256-GCM) or chacha (ChaCha20-Poly1305).", DefaultValueFactory = _ => "aes" };
        var sign = new Option<bool>("--sign") { Description = "Sign every secure message with the member key (Ed25519)." };
        var refresh = new Option<double?>("--refresh") { Description = "Refresh each secure group's key every this many seconds." };

        var command = new Command("user", "Interactive Spread client (like spuser): join, leave, send, multigroup send, receive; reads commands from stdin. With --secure, secure groups.")
        {
            user, spread, service, messageType, noMembership, manual, secure, memberKey, trust, aead, sign, refresh,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            if (parse.GetValue(secure) is string module)
            {
                return await SecureUser.RunAsync(parse.GetValue(spread), parse.GetValue(user)!, module, parse.GetValue(memberKey), parse.GetValue(trust), parse.GetValue(aead)!, parse.GetValue(sign), parse.GetValue(refresh), cancellation);
            }

            if (!UserShell.TryParseService(parse.GetValue(service)!, out ServiceType chosen))
            {
                await Console.Error.WriteLineAsync($"conclave user: unknown service '{parse.GetValue(service)}'.");
                return 2;
            }

            GroupConnection connection;
            try
            {
                connection = await GroupConnection.ConnectAsync(parse.GetValue(spread), parse.GetValue(user)!, !parse.GetValue(noMembership), cancellation);
            }
            catch (SpreadException e)
            {
                await Console.Error.WriteLineAsync($"conclave user: cannot connect to '{parse.GetValue(spread)}': {e.Message} ({(int)e.Error})");
                return 1;
            }

            await using (connection)
            {
                using var shell = new UserShell(connection, Console.In, Console.Out, chosen, parse.GetValue(messageType), automatic: !parse.GetValue(manual), prompt: !Console.IsInputRedirected);
                return await shell.RunAsync(cancellation);
            }
        });
        return command;
    }
}
