using System.Text;
using System.Threading.Channels;

namespace Conclave.Distribution.Tests;

/// <summary>Standard input for a sample run in-process: lines are fed by the test, <see cref="End"/> is Ctrl+D.</summary>
internal sealed class FedInput : TextReader
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    public void Feed(string line) => _lines.Writer.TryWrite(line);

    public void End() => _lines.Writer.TryComplete();

    public override async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _lines.Reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }
}

/// <summary>Standard output for a sample run in-process: the test waits for lines instead of sleeping.</summary>
internal sealed class WatchedOutput : TextWriter
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _partial = new();
    private readonly List<string> _all = [];

    public override Encoding Encoding => Encoding.UTF8;

    public IReadOnlyList<string> All
    {
        get
        {
            lock (_all)
            {
                return [.. _all];
            }
        }
    }

    public override void Write(char value)
    {
        lock (_partial)
        {
            if (value == '\n')
            {
                string line = _partial.ToString();
                _partial.Clear();
                lock (_all)
                {
                    _all.Add(line);
                }

                _lines.Writer.TryWrite(line);
            }
            else
            {
                _partial.Append(value);
            }
        }
    }

    /// <summary>Waits for a line containing <paramref name="text"/>; fails after the patience with everything seen.</summary>
    public async Task<string> WaitForAsync(string text)
    {
        using var timeout = new CancellationTokenSource(Patience.Limit);
        try
        {
            while (true)
            {
                string line = await _lines.Reader.ReadAsync(timeout.Token);
                if (line.Contains(text, StringComparison.Ordinal))
                {
                    return line;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no line containing '{text}'; saw:\n{string.Join('\n', All)}");
        }
    }
}

internal static class Patience
{
    /// <summary>Upper bound for one expected event; a failure guard, not a synchronisation.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public static Task<T> Bounded<T>(this Task<T> task) => task.WaitAsync(Limit);
}
