using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Conclave.Client;
using Conclave.Client.Flush;
using Conclave.Protocol.Spread;

namespace Conclave.Samples.Counter;

/// <summary>Where, who, which counter; two conditions make it scriptable.</summary>
internal sealed record CounterOptions(string Daemon, string Name, string Group, int WaitMembers, long? ExitAt);

/// <summary>One replica: additions from input go out AGREED; deliveries and views drive <see cref="CounterState"/>.</summary>
internal static class CounterReplica
{
    private const short AddType = 1;
    private const short StateType = 2;

    public static async Task<int> RunAsync(CounterOptions options, TextReader input, TextWriter output, CancellationToken cancellationToken)
    {
        TextWriter console = TextWriter.Synchronized(output);
        await using FlushConnection connection = await FlushConnection.ConnectAsync(options.Daemon, options.Name, new FlushOptions { AutoFlushOk = true }, cancellationToken);
        var gates = new Gates(options.WaitMembers, options.ExitAt);
        await connection.JoinAsync(options.Group, cancellationToken);
        using var stopReceiving = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task receiving = ReceiveAsync(connection, options.Group, gates, console, stopReceiving.Token);

        while (await input.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Trim().Length == 0)
            {
                continue;
            }

            long amount = long.Parse(line.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            await gates.EnoughMembers.WaitAsync(cancellationToken);
            await connection.MulticastAsync(ServiceType.Agreed, options.Group, AddType, Encode(amount), cancellationToken);
        }

        await gates.Reached.WaitAsync(cancellationToken);
        await stopReceiving.CancelAsync();
        await receiving;
        return 0;
    }

    private static async Task ReceiveAsync(FlushConnection connection, string group, Gates gates, TextWriter console, CancellationToken cancellationToken)
    {
        var state = new CounterState();
        string view = string.Empty;
        try
        {
            while (true)
            {
                FlushEvent e = await connection.ReceiveAsync(cancellationToken);
                if (e.Group != group)
                {
                    continue;
                }

                switch (e)
                {
                    case FlushView installed:
                        view = installed.GroupId.ToString();
                        if (state.OnView(connection.PrivateGroup, installed.Members, installed.Cause, installed.VsSet) is long current)
                        {
                            // Not from this loop: a send made during the next flush waits for the view after it,
                            // which only this loop's receiving can bring.
                            _ = SendStateAsync(connection, group, current, view);
                        }

                        await console.WriteLineAsync($"* view of {installed.Members.Count} ({installed.Cause}): {string.Join(", ", installed.Members)}{(state.Known ? $"; value {state.Value}" : "; waiting for the value")}");
                        gates.OnView(installed.Members.Count);
                        break;
                    case FlushDataMessage { MessageType: AddType } add:
                        state.OnAdd(Decode(add.Body.Span));
                        break;
                    case FlushDataMessage { MessageType: StateType } transfer:
                        bool wasKnown = state.Known;
                        if (DecodeState(transfer.Body.Span) is (long value, string sentIn) && sentIn == view)
                        {
                            state.OnState(value);
                        }

                        if (!wasKnown)
                        {
                            await console.WriteLineAsync($"* value {state.Value} from {transfer.Sender}");
                        }

                        break;
                    default:
                        continue;
                }

                if (e is FlushDataMessage { MessageType: AddType } && state.Known)
                {
                    await console.WriteLineAsync($"value {state.Value}");
                }

                gates.OnValue(state);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Leaving: disposal disconnects.
        }
    }

    /// <summary>The state message names the view it belongs to: one held by a flush and sent in a later view is ignored.</summary>
    private static async Task SendStateAsync(FlushConnection connection, string group, long value, string view)
    {
        byte[] body = new byte[8 + Encoding.UTF8.GetByteCount(view)];
        BinaryPrimitives.WriteInt64BigEndian(body, value);
        Encoding.UTF8.GetBytes(view, body.AsSpan(8));
        try
        {
            await connection.MulticastAsync(ServiceType.Agreed, group, StateType, body);
        }
        catch (SpreadException)
        {
            // Left or disconnected: the next first member sends the state.
        }
    }

    private static (long Value, string View)? DecodeState(ReadOnlySpan<byte> body) =>
        body.Length < 8 ? null : (BinaryPrimitives.ReadInt64BigEndian(body), Encoding.UTF8.GetString(body[8..]));

    private static byte[] Encode(long value)
    {
        byte[] body = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(body, value);
        return body;
    }

    private static long Decode(ReadOnlySpan<byte> body) =>
        body.Length == 8 ? BinaryPrimitives.ReadInt64BigEndian(body) : throw new FormatException("A counter message carries 8 bytes.");

    /// <summary>The two conditions scripts wait on: enough replicas, and the value reached.</summary>
    private sealed class Gates(int waitMembers, long? exitAt)
    {
        private readonly TaskCompletionSource _enoughMembers = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task EnoughMembers => _enoughMembers.Task;

        public Task Reached => exitAt is null ? Task.CompletedTask : _reached.Task;

        public void OnView(int members)
        {
            if (members >= waitMembers)
            {
                _enoughMembers.TrySetResult();
            }
        }

        public void OnValue(CounterState state)
        {
            if (state.Known && state.Value == exitAt)
            {
                _reached.TrySetResult();
            }
        }
    }
}
