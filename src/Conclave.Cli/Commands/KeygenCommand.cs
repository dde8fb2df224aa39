using System.CommandLine;
using Conclave.Crypto;
using Conclave.Daemon.Network;

namespace Conclave.Cli.Commands;

/// <summary>
/// `conclave keygen --member FILE | --cluster FILE [--force]`: writes a member's long-term Ed25519 key
/// file, or a cluster's daemon-link key file (both mode 0600). One key kind per option.
/// </summary>
internal static class KeygenCommand
{
    public static Command Create()
    {
        var member = new Option<FileInfo?>("--member") { Description = "Write a member's Ed25519 identity key file to FILE." };
        var cluster = new Option<FileInfo?>("--cluster") { Description = "Write a cluster key (AES-256-GCM daemon links) to FILE." };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing file." };
        var command = new Command("keygen", "Generate key files.") { member, cluster, force };
        command.SetAction(parse =>
        {
            FileInfo? memberFile = parse.GetValue(member);
            FileInfo? clusterFile = parse.GetValue(cluster);
            if ((memberFile is null) == (clusterFile is null))
            {
                Console.Error.WriteLine("keygen: say which one key to generate: --member FILE or --cluster FILE.");
                return 2;
            }

            try
            {
                return memberFile is not null ? WriteMember(memberFile, parse.GetValue(force)) : WriteCluster(clusterFile!, parse.GetValue(force));
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"keygen: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static int WriteMember(FileInfo file, bool force)
    {
        using MemberIdentity identity = MemberIdentity.Generate();
        MemberKeyFile.Write(file.FullName, identity, force);
        Console.WriteLine($"member key written to {file.FullName} (mode 0600)");
        Console.WriteLine($"public key: {Convert.ToBase64String(identity.PublicKey)}");
        return 0;
    }

    private static int WriteCluster(FileInfo file, bool force)
    {
        ClusterKey key = ClusterKey.Generate();
        key.Save(file.FullName, force);
        Console.WriteLine($"cluster key written to {file.FullName} (mode 0600); key id {key.KeyId:x8}");
        Console.WriteLine("copy it to every daemon of the cluster and set ClusterKeyFile in spread.conf");
        return 0;
    }
}
