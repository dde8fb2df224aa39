using System.Text;
using Conclave.Client;
using Conclave.Client.Flush;
using Conclave.Client.Secure;

namespace Conclave.Cli.Commands;

/// <summary>The command loop of `conclave user --secure`: secure groups on one session, each view printed with its key fingerprint.</summary>
internal sealed class SecureUserShell
{
    public const string Help = """
        Commands (secure mode):
          j <group>            join a secure group (module, AEAD, trust as given on the command line)
          p <group>            join a plain (unencrypted) group on the same session
          l <group>            leave a group
          s <group> <text>     send text, sealed under the group's current key (plain for a plain group)
          k <group>            ask for a key refresh
          h                    this help
          q                    quit (disconnect)
        """;

    private readonly SecureConnection _connection;
    private readonly SecureGroupOptions _options;
    private readonly TextReader _input;
    private readonly TextWriter _output;
    private readonly bool _prompt;
    private readonly object _writeLock = new();

    public SecureUserShell(SecureConnection connection, SecureGroupOptions options, TextReader input, TextWriter output, bool prompt)
    {
        _connection = connection;
        _options = options;
        _input = input;
        _output = output;
        _prompt = prompt;
    }

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        Write($"User: connected with private group {_connection.PrivateGroup}; secure groups use {_options.Protocol}, {_options.Aead}{(_options.SignMessages ? ", signed messages" : string.Empty)}");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task printing = PrintAsync(stop.Token);
        try
        {
            while (!printing.IsCompleted)
            {
                if (_prompt)
                {
                    _output.Write("Secure> ");
                }

                // Console.In reads synchronously: keep the blocking read off whatever thread resumed us (it may be the session's receive path).
                string? line = await Task.Run(_input.ReadLine, cancellationToken);
                if (line is null || line.Trim() == "q")
                {
                    break;
                }

                try
                {
                    await ExecuteAsync(line.Trim(), cancellationToken);
                }
                catch (SpreadException e)
                {
                    Write($"error: {e.Message} ({(int)e.Error})");
                }
                catch (ArgumentException e)
                {
                    Write($"error: {e.Message}");
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await printing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        Write("Bye.");
        return 0;
    }

    private async Task ExecuteAsync(string line, CancellationToken cancellationToken)
    {
        string[] words = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            return;
        }

        string? group = words.Length > 1 ? words[1] : null;
        switch (words[0], group)
        {
            case ("j", string g):
                await _connection.JoinAsync(g, _options, cancellationToken);
                Write($"joining secure group {g}; its view is printed once the members agree on a key");
                break;
            case ("p", string g):
                await _connection.JoinPlainAsync(g, cancellationToken);
                break;
            case ("l", string g):
                await _connection.LeaveAsync(g, cancellationToken);
                break;
            case ("s", string g):
                await _connection.SendAsync(g, 1, Encoding.UTF8.GetBytes(words.Length > 2 ? words[2] : string.Empty), cancellationToken);
                break;
            case ("k", string g):
                Write(_connection.RequestRefresh(g) ? $"refresh of {g} asked for" : $"{g} is keying: no refresh now");
                break;
            case ("h", _):
                Write(Help);
                break;
            default:
                Write($"unknown command '{line}' (h for help)");
                break;
        }
    }

    private async Task PrintAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                Write(Describe(await _connection.ReceiveAsync(cancellationToken)));
            }
        }
        catch (SpreadException e)
        {
            Write($"session closed: {e.Message}");
        }
    }

    private static string Describe(SecureEvent e) => e switch
    {
        SecureView v => $"SECURE VIEW for {v.Group}: key {Convert.ToHexString([.. v.KeyFingerprint]).ToLowerInvariant()} epoch {v.Epoch} ({string.Join("+", v.Events)}) members {string.Join(" ", v.Members)}"
            + (v.Excluded.Count > 0 ? $"; NOT TRUSTED, left out of the key: {string.Join(" ", v.Excluded)}" : string.Empty),
        SecureMessage m => $"message from {m.Sender}, secure group {m.Group}, type {m.MessageType} ({m.Body.Length} bytes): {Encoding.UTF8.GetString(m.Body.Span)}",
        SecureLeft l => $"left secure group {l.Group}",
        PlainGroupEvent { Event: FlushDataMessage d } => $"message from {d.Sender}, plain group {d.Group} ({d.Body.Length} bytes): {Encoding.UTF8.GetString(d.Body.Span)}",
        PlainGroupEvent { Event: FlushView v } => $"VIEW for plain group {v.Group}: members {string.Join(" ", v.Members)}",
        PlainGroupEvent p => $"{p.Event.GetType().Name} for plain group {p.Group}",
        _ => e.ToString() ?? string.Empty,
    };

    private void Write(string text)
    {
        lock (_writeLock)
        {
            _output.WriteLine(text);
            _output.Flush();
        }
    }
}
