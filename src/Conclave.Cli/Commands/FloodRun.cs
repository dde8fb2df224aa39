using System.Buffers.Binary;
using System.Diagnostics;
using Conclave.Client;
using Conclave.Protocol.Spread;

namespace Conclave.Cli.Commands;

/// <summary>
/// One `conclave flood` run: connect every session, join, wait until every session sees the full view,
/// then send through the window and time until the last message reached every session.
/// </summary>
/// <remarks>
/// Flood body (little-endian): sender index (4) | sequence (4) | Stopwatch timestamp at send (8) | padding.
/// The round trip is measured by each sender on its own copies (to self through the daemon and back).
/// </remarks>
internal static class FloodRun
{
    public static async Task<FloodResult> RunAsync(FloodOptions options, CancellationToken cancellationToken)
    {
        int sessions = options.Senders + options.Receivers;
        var connections = new List<GroupConnection>(sessions);
        try
        {
            for (int i = 0; i < sessions; i++)
            {
                // Empty names: the daemon generates unique ones, so several floods can share a daemon.
                connections.Add(await GroupConnection.ConnectAsync(options.Spread, string.Empty, groupMembership: true, cancellationToken));
            }

            foreach (GroupConnection connection in connections)
            {
                await connection.JoinAsync(options.Group, cancellationToken);
            }

            string[] everyone = [.. connections.Select(c => c.PrivateGroup)];
            foreach (GroupConnection connection in connections)
            {
                await WaitForFullViewAsync(connection, options.Group, everyone, cancellationToken);
            }

            return await MeasureAsync(options, connections, cancellationToken);
        }
        finally
        {
            foreach (GroupConnection connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static async Task WaitForFullViewAsync(GroupConnection connection, string group, string[] everyone, CancellationToken cancellationToken)
    {
        while (true)
        {
            SpreadMessage message = await connection.ReceiveAsync(cancellationToken);
            if (message is MembershipMessage view && view.Group == group && everyone.All(view.Members.Contains))
            {
                return;
            }
        }
    }

    private static async Task<FloodResult> MeasureAsync(FloodOptions options, List<GroupConnection> connections, CancellationToken cancellationToken)
    {
        long expected = (long)options.Count * options.Senders;
        long[][] roundTrips = [.. Enumerable.Range(0, options.Senders).Select(_ => new long[options.Count])];
        using var window = new FloodWindow(options.Window, connections.Count);
        using var failure = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        long start = Stopwatch.GetTimestamp();
        var tasks = new List<Task>();
        for (int i = 0; i < connections.Count; i++)
        {
            int session = i;
            tasks.Add(Task.Run(() => ReceiveAsync(connections[session], session, session < options.Senders ? roundTrips[session] : null, expected, window, failure.Token), CancellationToken.None));
        }

        for (int s = 0; s < options.Senders; s++)
        {
            int sender = s;
            tasks.Add(Task.Run(() => SendAsync(connections[sender], sender, options, window, failure.Token), CancellationToken.None));
        }

        try
        {
            await WhenAllOrFirstFailureAsync(tasks, failure);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && tasks.FirstOrDefault(t => t.IsFaulted) is { } faulted)
        {
            await faulted; // rethrow the real cause
        }

        double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        long[] samples = [.. roundTrips.SelectMany(r => r)];
        Array.Sort(samples);
        double Percentile(double p) => samples.Length == 0 ? 0 : ToMicroseconds(samples[Math.Min(samples.Length - 1, (int)Math.Ceiling(p * samples.Length) - 1)]);
        double sent = expected / elapsed;
        return new FloodResult(
            connections[0].SpreadName,
            UserFormat.Service(options.Service),
            options.Group,
            options.Count,
            options.Size,
            options.Senders,
            options.Receivers,
            options.Window,
            elapsed,
            sent,
            sent * options.Size / 1e6,
            sent * connections.Count,
            samples.Length,
            Percentile(0.50),
            Percentile(0.90),
            Percentile(0.99),
            samples.Length == 0 ? 0 : ToMicroseconds(samples[^1]));
    }

    private static double ToMicroseconds(long ticks) => ticks * 1e6 / Stopwatch.Frequency;

    private static async Task WhenAllOrFirstFailureAsync(List<Task> tasks, CancellationTokenSource failure)
    {
        var pending = new List<Task>(tasks);
        while (pending.Count > 0)
        {
            Task done = await Task.WhenAny(pending);
            pending.Remove(done);
            if (done.IsFaulted)
            {
                // One session failed (e.g. the daemon dropped it): stop the others instead of waiting forever.
                await failure.CancelAsync();
                await done;
            }
        }
    }

    private static async Task SendAsync(GroupConnection connection, int sender, FloodOptions options, FloodWindow window, CancellationToken cancellationToken)
    {
        byte[] body = new byte[options.Size];
        for (int i = FloodOptions.StampSize; i < body.Length; i++)
        {
            body[i] = (byte)i;
        }

        BinaryPrimitives.WriteInt32LittleEndian(body, sender);
        for (int sequence = 0; sequence < options.Count; sequence++)
        {
            await window.AcquireAsync(cancellationToken);
            BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(4), sequence);
            BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(8), Stopwatch.GetTimestamp());
            await connection.MulticastAsync(options.Service, options.Group, FloodOptions.MessageType, body, cancellationToken);
        }
    }

    private static async Task ReceiveAsync(GroupConnection connection, int session, long[]? ownRoundTrips, long expected, FloodWindow window, CancellationToken cancellationToken)
    {
        long received = 0;
        while (received < expected)
        {
            using SpreadFrame frame = await connection.ReceiveFrameAsync(cancellationToken);
            long now = Stopwatch.GetTimestamp();
            if (!ServiceTypeRules.IsData(frame.ServiceType) || frame.MessageType != FloodOptions.MessageType || frame.Body.Length < FloodOptions.StampSize)
            {
                continue; // memberships and foreign traffic
            }

            ReadOnlySpan<byte> body = frame.Body.Span;
            if (ownRoundTrips is not null && BinaryPrimitives.ReadInt32LittleEndian(body) == session)
            {
                ownRoundTrips[BinaryPrimitives.ReadInt32LittleEndian(body[4..])] = now - BinaryPrimitives.ReadInt64LittleEndian(body[8..]);
            }

            received++;
            window.Received(session);
        }
    }
}
