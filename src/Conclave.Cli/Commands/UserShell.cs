using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Conclave.Client;
using Conclave.Protocol.Spread;

namespace Conclave.Cli.Commands;

/// <summary>The command loop of `conclave user`: reads commands, prints what the session receives.</summary>
internal sealed class UserShell : IDisposable
{
    public const string Help = """
        Commands:
          j <group>                 join a group
          l <group>                 leave a group
          s <group> [text]          send text (or, without text, the next line) to a group or private group (#name#daemon)
          m <group> [<group> ...]   send a multi-line message to several groups at once; end it with an empty line
          t <service>               service for sends: unreliable reliable fifo causal agreed safe (add +selfdiscard)
          r                         receive: wait for and print the next message (when automatic printing is off)
          e / d                     enable / disable automatic printing of incoming messages
          h                         this help
          q                         quit (disconnect)
        """;

    private readonly GroupConnection _connection;
    private readonly TextReader _input;
    private readonly TextWriter _output;
    private readonly bool _prompt;
    private readonly Channel<SpreadMessage> _inbox = Channel.CreateUnbounded<SpreadMessage>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly object _writeLock = new();
    private ServiceType _service;
    private readonly short _messageType;
    private CancellationTokenSource? _printer;
    private Task _printing = Task.CompletedTask;

    public UserShell(GroupConnection connection, TextReader input, TextWriter output, ServiceType service, short messageType, bool automatic, bool prompt)
    {
        _connection = connection;
        _input = input;
        _output = output;
        _service = service;
        _messageType = messageType;
        _prompt = prompt;
        if (automatic)
        {
            StartPrinting();
        }
    }

    public static bool TryParseService(string text, out ServiceType service)
    {
        service = ServiceType.None;
        foreach (string part in text.ToUpperInvariant().Split('+', StringSplitOptions.RemoveEmptyEntries))
        {
            ServiceType bit = part switch
            {
                "UNRELIABLE" => ServiceType.Unreliable,
                "RELIABLE" => ServiceType.Reliable,
                "FIFO" => ServiceType.Fifo,
                "CAUSAL" => ServiceType.Causal,
                "AGREED" => ServiceType.Agreed,
                "SAFE" => ServiceType.Safe,
                "SELFDISCARD" or "SELF_DISCARD" => ServiceType.SelfDiscard,
                _ => ServiceType.None,
            };
            if (bit == ServiceType.None)
            {
                return false;
            }

            service |= bit;
        }

        return (service & ServiceType.RegularMask) != 0 && System.Numerics.BitOperations.PopCount((uint)(service & ServiceType.RegularMask)) == 1;
    }

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        Write($"User: connected to {_connection.SpreadName} with private group {_connection.PrivateGroup}");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task receiving = ReceiveLoopAsync(stop.Token);
        try
        {
            while (true)
            {
                if (_prompt)
                {
                    lock (_writeLock)
                    {
                        _output.Write("User> ");
                        _output.Flush();
                    }
                }

                string? line = await _input.ReadLineAsync(cancellationToken);
                if (line is null || line.Trim() is "q" or "quit")
                {
                    break;
                }

                try
                {
                    await RunCommandAsync(line.Trim(), cancellationToken);
                }
                catch (SpreadException e)
                {
                    Write($"error: {e.Message} ({(int)e.Error})");
                    if (e.Error == SpreadError.ConnectionClosed)
                    {
                        return 1;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: disconnect as for 'q'.
        }

        bool automatic = _printer is not null;
        await StopPrintingAsync();
        await _connection.DisconnectAsync(CancellationToken.None);
        await stop.CancelAsync();
        await receiving;
        while (automatic && _inbox.Reader.TryRead(out SpreadMessage? late))
        {
            Write(UserFormat.Describe(late, _connection.PrivateGroup));
        }

        Write("Bye.");
        return 0;
    }

    private async Task RunCommandAsync(string line, CancellationToken cancellationToken)
    {
        string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            return;
        }

        switch (words[0])
        {
            case "j" when words.Length == 2:
                await _connection.JoinAsync(words[1], cancellationToken);
                break;
            case "l" when words.Length == 2:
                await _connection.LeaveAsync(words[1], cancellationToken);
                break;
            case "s" when words.Length >= 2:
                string text = words.Length > 2 ? line[(line.IndexOf(words[1], 2, StringComparison.Ordinal) + words[1].Length + 1)..] : await _input.ReadLineAsync(cancellationToken) ?? string.Empty;
                await _connection.MulticastAsync(_service, words[1], _messageType, Encoding.UTF8.GetBytes(text), cancellationToken);
                break;
            case "m" when words.Length >= 2:
                var body = new StringBuilder();
                while (await _input.ReadLineAsync(cancellationToken) is { Length: > 0 } next)
                {
                    body.Append(next).Append('\n');
                }

                await _connection.MulticastAsync(_service, words[1..], _messageType, Encoding.UTF8.GetBytes(body.ToString()), cancellationToken);
                break;
            case "t" when words.Length == 2:
                if (TryParseService(words[1], out ServiceType service))
                {
                    _service = service;
                    Write($"sending {UserFormat.Service(service)} from now on");
                }
                else
                {
                    Write($"unknown service '{words[1]}'");
                }

                break;
            case "r":
                if (_printer is not null)
                {
                    Write("automatic printing is on: messages are printed as they arrive ('d' turns it off)");
                }
                else if (await _inbox.Reader.WaitToReadAsync(cancellationToken) && _inbox.Reader.TryRead(out SpreadMessage? message))
                {
                    Write(UserFormat.Describe(message, _connection.PrivateGroup));
                }
                else
                {
                    Write("the session is closed");
                }

                break;
            case "e":
                StartPrinting();
                break;
            case "d":
                await StopPrintingAsync();
                break;
            case "h" or "?":
                Write(Help);
                break;
            default:
                Write($"unknown command '{line}' ('h' for help)");
                break;
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (SpreadMessage message in _connection.ReadAllAsync(cancellationToken))
            {
                _inbox.Writer.TryWrite(message);
            }
        }
        catch (OperationCanceledException)
        {
            // Quitting.
        }
        catch (SpreadException e)
        {
            Write($"session ended: {e.Message} ({(int)e.Error})");
        }
        finally
        {
            _inbox.Writer.TryComplete();
        }
    }

    private void StartPrinting()
    {
        if (_printer is not null)
        {
            return;
        }

        _printer = new CancellationTokenSource();
        CancellationToken token = _printer.Token;
        _printing = Task.Run(async () =>
        {
            try
            {
                while (await _inbox.Reader.WaitToReadAsync(token))
                {
                    while (_inbox.Reader.TryRead(out SpreadMessage? message))
                    {
                        Write(UserFormat.Describe(message, _connection.PrivateGroup));
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Printing turned off; unread messages stay queued for 'r'.
            }
        }, CancellationToken.None);
    }

    private async Task StopPrintingAsync()
    {
        if (_printer is null)
        {
            return;
        }

        await _printer.CancelAsync();
        await _printing;
        _printer.Dispose();
        _printer = null;
    }

    public void Dispose() => _printer?.Dispose();

    private void Write(string text)
    {
        lock (_writeLock)
        {
            _output.WriteLine(text);
            _output.Flush();
        }
    }
}
