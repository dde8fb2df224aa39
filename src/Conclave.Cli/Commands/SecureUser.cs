using Conclave.Client;
using Conclave.Client.Secure;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Cli.Commands;

/// <summary>`conclave user --secure`: checks the options, loads the member key and trust file, connects and runs the secure shell.</summary>
internal static class SecureUser
{
    public static async Task<int> RunAsync(string? spread, string user, string module, FileInfo? memberKey, FileInfo? trust, string aead, bool sign, double? refreshSeconds, CancellationToken cancellationToken)
    {
        if (!SecureChoices.TryParseProtocol(module, out KeyAgreementProtocol protocol) || !SecureChoices.TryParseAead(aead, out SecureAead suite))
        {
            await Console.Error.WriteLineAsync("conclave user: --secure is gdh, ckd or tgdh; --aead is aes or chacha.");
            return 2;
        }

        if (memberKey is null || trust is null)
        {
            await Console.Error.WriteLineAsync("conclave user: --secure needs --member-key FILE and --trust FILE.");
            return 2;
        }

        if (refreshSeconds is <= 0)
        {
            await Console.Error.WriteLineAsync("conclave user: --refresh must be a positive number of seconds.");
            return 2;
        }

        MemberIdentity identity;
        MemberDirectory directory;
        try
        {
            identity = MemberKeyFile.Read(memberKey.FullName);
            directory = TrustFile.Read(trust.FullName);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"conclave user: {e.Message}");
            return 2;
        }

        using (identity)
        {
            var options = new SecureGroupOptions
            {
                Protocol = protocol,
                Aead = suite,
                Identity = identity,
                Directory = directory,
                SignMessages = sign,
                RefreshInterval = refreshSeconds is double s ? TimeSpan.FromSeconds(s) : null,
            };
            SecureConnection connection;
            try
            {
                connection = await SecureConnection.ConnectAsync(spread, user, cancellationToken);
            }
            catch (SpreadException e)
            {
                await Console.Error.WriteLineAsync($"conclave user: cannot connect to '{spread}': {e.Message} ({(int)e.Error})");
                return 1;
            }

            await using (connection)
            {
                if (!directory.TryGet(connection.PrivateGroup, out byte[] listed) || !listed.AsSpan().SequenceEqual(identity.PublicKey))
                {
                    await Console.Error.WriteLineAsync($"conclave user: the trust file must list this member as '{connection.PrivateGroup} {Convert.ToBase64String(identity.PublicKey)}'.");
                    return 2;
                }

                var shell = new SecureUserShell(connection, options, Console.In, Console.Out, prompt: !Console.IsInputRedirected);
                return await shell.RunAsync(cancellationToken);
            }
        }
    }
}
