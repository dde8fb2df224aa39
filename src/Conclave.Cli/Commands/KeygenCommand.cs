using System.CommandLine;
using Conclave.Crypto;

namespace Conclave.Cli.Commands;

/// <summary>
/// `conclave keygen --member FILE [--force]`: writes a member's long-term Ed25519 key file (mode 0600) and prints
/// the public key. One key kind per option, so other kinds (a cluster key) can be added as sibling options.
/// </summary>
internal static class KeygenCommand
{
    public static Command Create()
    {
        var member = new Option<FileInfo?>("--member") { Description = "Write a member's Ed25519 identity key file to FILE." };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing file." };
        var command = new Command("keygen", "Generate key files.") { member, force };
        command.SetAction(parse =>
        {
            FileInfo? file = parse.GetValue(member);
            if (file is null)
            {
                Console.Error.WriteLine("keygen: say which key to generate, e.g. --member FILE.");
                return 2;
            }

            using MemberIdentity identity = MemberIdentity.Generate();
            try
            {
                MemberKeyFile.Write(file.FullName, identity, parse.GetValue(force));
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"keygen: {e.Message}");
                return 1;
            }

            Console.WriteLine($"member key written to {file.FullName} (mode 0600)");
            Console.WriteLine($"public key: {Convert.ToBase64String(identity.PublicKey)}");
            return 0;
        });
        return command;
    }
}
