using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Conclave.Daemon.Configuration;

/// <summary>
/// Reads Spread 4.4's <c>spread.conf</c>: <c>#</c> comments, <c>Spread_Segment addr[:port] { name [ip] [{ [D|C|M] ip … }] … }</c>
/// blocks and <c>Keyword = value</c> settings (spread-daemon.md §2). Errors name the line.
/// </summary>
public static class SpreadConfigurationParser
{
    private const int MaxSegments = 20;
    private const int MaxDaemonsPerSegment = 128;
    private const int MaxInterfaces = 10;

    private static readonly string[] TimeoutKeywords =
        ["TokenTimeout", "HurryTimeout", "AliveTimeout", "JoinTimeout", "RepTimeout", "SegTimeout", "GatherTimeout", "FormTimeout", "LookupTimeout"];

    private static readonly HashSet<string> IntegerKeywords = new(StringComparer.Ordinal)
    {
        "MaxSessionMessages", "Window", "PersonalWindow", "AcceleratedWindow",
        "TokenTimeout", "HurryTimeout", "AliveTimeout", "JoinTimeout", "RepTimeout", "SegTimeout", "GatherTimeout", "FormTimeout", "LookupTimeout",
        "FragmentSize", "TokenHoldAfterIdleVisits", "TokenKeepMaxMessages",
    };

    private static readonly HashSet<string> KnownKeywords = new(StringComparer.Ordinal)
    {
        "EventLogFile", "EventTimeStamp", "EventPreciseTimeStamp", "EventPriority", "DebugFlags", "DangerousMonitor",
        "SocketPortReuse", "DebugInitialSequence", "MaxSessionMessages", "RuntimeDir", "DaemonUser", "DaemonGroup",
        "RequiredAuthMethods", "AllowedAuthMethods", "AccessControlPolicy", "Window", "PersonalWindow", "AcceleratedRing",
        "AcceleratedWindow", "TokenTimeout", "HurryTimeout", "AliveTimeout", "JoinTimeout", "RepTimeout", "SegTimeout",
        "GatherTimeout", "FormTimeout", "LookupTimeout", "LinkProtocol", "RouteMatrix",
        // Conclave's own: daemon link security (multi-daemon issue).
        "ClusterKeyFile", "DaemonLinkEncryption", "FragmentSize", "LinkSegmentSize",
        // Conclave's own: the idle token hold (ring-protocol.md §1.8).
        "TokenHoldTimeoutUs", "TokenHoldAfterIdleVisits", "TokenKeepMaxMessages",
    };

    /// <summary>Parses a file.</summary>
    public static SpreadConfiguration ParseFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SpreadConfigurationException($"{path}: cannot read the configuration: {ex.Message}", ex);
        }

        return Parse(text, path);
    }

    /// <summary>Parses configuration text; <paramref name="source"/> names it in errors.</summary>
    public static SpreadConfiguration Parse(string text, string source = "spread.conf")
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new TokenStream(Tokenize(text, source), source);
        var segments = new List<SpreadSegment>();
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        while (!tokens.AtEnd)
        {
            Token keyword = tokens.Next();
            if (keyword.Text == "Spread_Segment")
            {
                segments.Add(ParseSegment(tokens));
                continue;
            }

            if (!KnownKeywords.Contains(keyword.Text))
            {
                throw tokens.Error(keyword, $"unknown keyword '{keyword.Text}'");
            }

            if (keyword.Text is "EventPreciseTimeStamp" or "DebugInitialSequence" || (keyword.Text == "EventTimeStamp" && tokens.PeekText != "="))
            {
                settings[keyword.Text] = "true";
                continue;
            }

            tokens.Expect("=");
            settings[keyword.Text] = keyword.Text is "DebugFlags" or "RouteMatrix" ? tokens.SkipBlock() : tokens.Next().Text;
        }

        var configuration = new SpreadConfiguration(segments, settings);
        Validate(configuration, source);
        return configuration;
    }

    private static SpreadSegment ParseSegment(TokenStream tokens)
    {
        Token address = tokens.Next();
        (IPAddress ip, int port) = ParseAddress(tokens, address, allowPort: true);
        tokens.Expect("{");
        var daemons = new List<DaemonEntry>();
        while (tokens.PeekText != "}")
        {
            Token name = tokens.Next();
            if (name.Text.Length is 0 or > 19)
            {
                throw tokens.Error(name, $"daemon name '{name.Text}' must be 1..19 characters");
            }

            IPAddress daemonAddress = IPAddress.None;
            var interfaces = new List<DaemonInterface>();
            if (tokens.PeekText is not null && char.IsDigit(tokens.PeekText[0]))
            {
                daemonAddress = ParseAddress(tokens, tokens.Next(), allowPort: false).Address;
            }
            else
            {
                daemonAddress = ResolveName(tokens, name);
            }

            if (tokens.PeekText == "{")
            {
                tokens.Next();
                while (tokens.PeekText != "}")
                {
                    Token first = tokens.Next();
                    char? kind = first.Text is "D" or "C" or "M" ? first.Text[0] : null;
                    Token ipToken = kind is null ? first : tokens.Next();
                    interfaces.Add(new DaemonInterface(kind, ParseAddress(tokens, ipToken, allowPort: false).Address));
                    if (interfaces.Count > MaxInterfaces)
                    {
                        throw tokens.Error(ipToken, $"daemon '{name.Text}' has more than {MaxInterfaces} interfaces");
                    }
                }

                tokens.Expect("}");
            }

            daemons.Add(new DaemonEntry(name.Text, daemonAddress, interfaces));
        }

        tokens.Expect("}");
        return new SpreadSegment(ip, port, daemons);
    }

    private static IPAddress ResolveName(TokenStream tokens, Token name)
    {
        // Spread's plain form "name" alone resolves the host name; only local names make sense here.
        try
        {
            IPAddress? v4 = Dns.GetHostAddresses(name.Text).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
            return v4 ?? throw tokens.Error(name, $"daemon '{name.Text}' has no IPv4 address");
        }
        catch (SocketException ex)
        {
            throw tokens.Error(name, $"daemon '{name.Text}' has no address and its name does not resolve ({ex.Message})");
        }
    }

    private static (IPAddress Address, int Port) ParseAddress(TokenStream tokens, Token token, bool allowPort)
    {
        string text = token.Text;
        int port = 4803;
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            if (!allowPort || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65534)
            {
                throw tokens.Error(token, $"'{text}' has no valid port (1..65534: the token port is port+1)");
            }

            text = text[..colon];
        }

        if (!IPAddress.TryParse(text, out IPAddress? address) || address.AddressFamily != AddressFamily.InterNetwork || text.Count(c => c == '.') != 3)
        {
            throw tokens.Error(token, $"'{token.Text}' is not a dotted IPv4 address");
        }

        return (address, port);
    }

    private static void Validate(SpreadConfiguration configuration, string source)
    {
        if (configuration.Segments.Count == 0)
        {
            throw new SpreadConfigurationException($"{source}: no Spread_Segment is defined");
        }

        if (configuration.Segments.Count > MaxSegments)
        {
            throw new SpreadConfigurationException($"{source}: more than {MaxSegments} segments");
        }

        foreach (SpreadSegment segment in configuration.Segments)
        {
            if (segment.Daemons.Count is 0 or > MaxDaemonsPerSegment)
            {
                throw new SpreadConfigurationException($"{source}: segment {segment.Address} must list 1..{MaxDaemonsPerSegment} daemons");
            }
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (DaemonEntry daemon in configuration.Daemons)
        {
            if (!names.Add(daemon.Name))
            {
                throw new SpreadConfigurationException($"{source}: daemon name '{daemon.Name}' appears twice");
            }
        }

        foreach (string keyword in IntegerKeywords)
        {
            if (configuration.Settings.TryGetValue(keyword, out string? value) &&
                (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number <= 0))
            {
                throw new SpreadConfigurationException($"{source}: {keyword} = {value} is not a positive integer");
            }
        }

        int timeouts = TimeoutKeywords.Count(configuration.Settings.ContainsKey);
        if (timeouts is > 0 and < 9)
        {
            throw new SpreadConfigurationException($"{source}: if any of {string.Join(", ", TimeoutKeywords)} is set, all must be");
        }

        if (configuration.IntSetting("AcceleratedWindow", 15) > configuration.PersonalWindow)
        {
            throw new SpreadConfigurationException($"{source}: AcceleratedWindow must not exceed PersonalWindow");
        }
    }

    private static List<Token> Tokenize(string text, string source)
    {
        var tokens = new List<Token>();
        int line = 1;
        for (int i = 0; i < text.Length;)
        {
            char c = text[i];
            if (c == '\n')
            {
                line++;
                i++;
            }
            else if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '#')
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }
            }
            else if (c is '{' or '}' or '=')
            {
                tokens.Add(new Token(c.ToString(), line));
                i++;
            }
            else if (c == '"')
            {
                int end = text.IndexOf('"', i + 1);
                if (end < 0)
                {
                    throw new SpreadConfigurationException($"{source}:{line}: unterminated string");
                }

                tokens.Add(new Token(text[(i + 1)..end], line));
                line += text.AsSpan(i, end - i).Count('\n');
                i = end + 1;
            }
            else
            {
                var word = new StringBuilder();
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('{' or '}' or '=' or '#' or '"'))
                {
                    word.Append(text[i++]);
                }

                tokens.Add(new Token(word.ToString(), line));
            }
        }

        return tokens;
    }

    private readonly record struct Token(string Text, int Line);

    private sealed class TokenStream(List<Token> tokens, string source)
    {
        private int _at;

        public bool AtEnd => _at >= tokens.Count;

        public string? PeekText => AtEnd ? null : tokens[_at].Text;

        public Token Next() => AtEnd
            ? throw new SpreadConfigurationException($"{source}: unexpected end of file")
            : tokens[_at++];

        public void Expect(string text)
        {
            Token token = Next();
            if (token.Text != text)
            {
                throw Error(token, $"expected '{text}' but found '{token.Text}'");
            }
        }

        /// <summary>Skips a <c>{ … }</c> value (DebugFlags, RouteMatrix) and returns its words.</summary>
        public string SkipBlock()
        {
            Expect("{");
            var words = new List<string>();
            while (PeekText != "}")
            {
                words.Add(Next().Text);
            }

            Next();
            return string.Join(' ', words);
        }

        public SpreadConfigurationException Error(Token token, string message) => new($"{source}:{token.Line}: {message}");
    }
}
