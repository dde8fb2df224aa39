namespace Conclave.Protocol.Spread;

/// <summary>
/// A session's private group name <c>#user#daemon</c>: the only name that reaches exactly one session.
/// </summary>
public static class PrivateGroupName
{
    /// <summary>Builds <c>#user#daemon</c>.</summary>
    public static string Format(string user, string daemon) => $"#{user}#{daemon}";

    /// <summary>True when a destination name addresses a private group (it starts with '#').</summary>
    public static bool IsPrivate(ReadOnlySpan<char> name) => name.Length > 0 && name[0] == '#';

    /// <summary>Splits <c>#user#daemon</c> into its parts; false for any other shape.</summary>
    public static bool TryParse(string name, out string user, out string daemon)
    {
        user = daemon = string.Empty;
        if (name.Length < 3 || name[0] != '#')
        {
            return false;
        }

        int second = name.IndexOf('#', 1);
        if (second <= 1 || second == name.Length - 1)
        {
            return false;
        }

        user = name[1..second];
        daemon = name[(second + 1)..];
        return true;
    }
}
