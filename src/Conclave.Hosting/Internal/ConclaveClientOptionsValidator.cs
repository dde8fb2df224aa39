using System.Globalization;
using Conclave.Protocol.Spread;
using Microsoft.Extensions.Options;

namespace Conclave.Hosting.Internal;

/// <summary>Checks at start what libspread would refuse only at the first connection: the daemon's name, the session name, the groups.</summary>
internal sealed class ConclaveClientOptionsValidator : IValidateOptions<ConclaveClientOptions>
{
    public ValidateOptionsResult Validate(string? name, ConclaveClientOptions options)
    {
        var failures = new List<string>();
        if (!IsSpreadName(options.Daemon))
        {
            failures.Add($"Daemon '{options.Daemon}' is not of the form PORT@HOST, PORT or empty.");
        }

        if (options.PrivateName.Length > SpreadLimits.MaxPrivateNameLength || (options.PrivateName.Length > 0 && (!NameField.IsLegalGroupName(options.PrivateName) || options.PrivateName.Contains('#', StringComparison.Ordinal))))
        {
            failures.Add($"PrivateName '{options.PrivateName}' must be at most {SpreadLimits.MaxPrivateNameLength} characters from '$'..'~', without '#'.");
        }

        foreach (string group in options.Groups.Where(g => !NameField.IsLegalGroupName(g) || g.StartsWith('#')))
        {
            failures.Add($"Group '{group}' is not a legal group name (1..31 characters from '$'..'~', not starting with '#').");
        }

        if (options.ReconnectDelay <= TimeSpan.Zero || options.MaxReconnectDelay < options.ReconnectDelay)
        {
            failures.Add("ReconnectDelay must be positive and at most MaxReconnectDelay.");
        }

        if (options.ReceiveBuffer < 1)
        {
            failures.Add("ReceiveBuffer must be positive.");
        }

        return failures.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(failures.Select(f => "Conclave client: " + f));
    }

    /// <summary>libspread's three forms: empty, <c>PORT</c>, <c>PORT@HOST</c>.</summary>
    private static bool IsSpreadName(string spreadName)
    {
        if (spreadName.Length == 0)
        {
            return true;
        }

        int at = spreadName.IndexOf('@', StringComparison.Ordinal);
        string port = at < 0 ? spreadName : spreadName[..at];
        return int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            && value is > 0 and <= 65535
            && (at < 0 || at < spreadName.Length - 1);
    }
}
