using System.Text;
using Conclave.Client;
using Conclave.Client.Secure;
using Conclave.Client.Secure.Internal;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Daemon.Tests.Secure;

/// <summary>
/// A secure member of one group driven by its own receive loop: it records every secure view, the text of every
/// message, and (as an eavesdropper on its own link would hold it) every sealed message as it arrived.
/// </summary>
internal sealed class SecureMember : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly List<SecureView> _views = [];
    private readonly List<string> _texts = [];
    private readonly List<string> _log = [];
    private readonly List<byte[]> _captured = [];
    private readonly List<string> _flushTrace = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SecureMember(SecureConnection connection, string group)
    {
        Connection = connection;
        Group = group;
    }

    public SecureConnection Connection { get; }

    public string Group { get; }

    public string Name => Connection.PrivateGroup;

    /// <summary>Completes at the member's next event (or when its session ends).</summary>
    public Task NextEvent => Volatile.Read(ref _next).Task;

    /// <summary>True once the session ended (its daemon died or it was disposed).</summary>
    public bool Closed { get; private set; }

    public SecureView? LastView
    {
        get
        {
            lock (_lock)
            {
                return _views.Count == 0 ? null : _views[^1];
            }
        }
    }

    public int ViewCount
    {
        get
        {
            lock (_lock)
            {
                return _views.Count;
            }
        }
    }

    /// <summary>Every secure view since the <paramref name="from"/>-th.</summary>
    public List<SecureView> ViewsSince(int from)
    {
        lock (_lock)
        {
            return [.. _views.Skip(from)];
        }
    }

    public List<string> Texts
    {
        get
        {
            lock (_lock)
            {
                return [.. _texts];
            }
        }
    }

    /// <summary>Everything delivered, in order: "view EPOCH [members]" and "SENDER: text".</summary>
    public List<string> Log
    {
        get
        {
            lock (_lock)
            {
                return [.. _log];
            }
        }
    }

    /// <summary>The Flush events under the secure layer (views, transitional signals, flush requests), numbered by the log entry they came before.</summary>
    public List<string> FlushTrace
    {
        get
        {
            lock (_lock)
            {
                return [.. _flushTrace];
            }
        }
    }

    /// <summary>Every secure view so far.</summary>
    public List<SecureView> Views => ViewsSince(0);

    public int CapturedCount
    {
        get
        {
            lock (_lock)
            {
                return _captured.Count;
            }
        }
    }

    /// <summary>The sealed messages received since the <paramref name="from"/>-th, as they crossed the wire.</summary>
    public List<byte[]> CapturedSince(int from)
    {
        lock (_lock)
        {
            return [.. _captured.Skip(from)];
        }
    }

    /// <summary>The installed key; use it only while this member receives nothing (the cipher is not thread-safe).</summary>
    public EpochCipher? CurrentCipher => Connection.CoreOf(Group)?.CurrentCipher;

    /// <summary>The group's live counters (read without the session's lock, so also while its receive path is stopped).</summary>
    public SecureGroupCounters Counters { get; private set; } = new();

    /// <summary>Connects to <paramref name="spreadName"/> as <paramref name="name"/>, joins <paramref name="group"/> and starts receiving.</summary>
    public static async Task<SecureMember> JoinAsync(string spreadName, string name, string group, SecureGroupOptions options, CancellationToken cancellationToken)
    {
        SecureMember member = await ConnectAsync(spreadName, name, group, cancellationToken);
        try
        {
            await member.JoinAsync(options, cancellationToken);
        }
        catch
        {
            await member.DisposeAsync();
            throw;
        }

        return member;
    }

    /// <summary>Connects to <paramref name="spreadName"/> as <paramref name="name"/>, ready to join <paramref name="group"/> with one write.</summary>
    public static async Task<SecureMember> ConnectAsync(string spreadName, string name, string group, CancellationToken cancellationToken) =>
        new(await SecureConnection.ConnectAsync(spreadName, name, cancellationToken), group);

    /// <summary>Joins the group and starts receiving.</summary>
    public async Task JoinAsync(SecureGroupOptions options, CancellationToken cancellationToken)
    {
        await Connection.JoinAsync(Group, options, cancellationToken);
        Counters = Connection.Counters(Group);
        // Capture is on before the first sealed message can arrive (nothing is sealed before the first key).
        Connection.CoreOf(Group)!.Captured = [];
        Connection.CoreOf(Group)!.FlushTrace = [];
        _loop = Task.Run(LoopAsync, CancellationToken.None);
    }

    /// <summary>Seals and sends <paramref name="text"/> (waits for a key if the group is keying).</summary>
    public async Task SendAsync(string text, CancellationToken cancellationToken) =>
        await Connection.SendAsync(Group, 1, Encoding.ASCII.GetBytes(text), cancellationToken);

    /// <summary>True if this member's last secure view is exactly <paramref name="members"/> (in any order).</summary>
    public bool IsKeyedFor(IReadOnlyCollection<string> members) =>
        LastView is { } v && v.Members.Count == members.Count && v.Members.All(members.Contains);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Connection.DisposeAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        SecureGroupCore core = Connection.CoreOf(Group)!;
        while (true)
        {
            SecureEvent e;
            try
            {
                e = await Connection.ReceiveAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is SpreadException or OperationCanceledException)
            {
                Closed = true;
                Signal();
                return;
            }

            lock (_lock)
            {
                // The core adds to its capture list only inside ReceiveAsync, on this loop: moving it here is race-free.
                if (core.Captured is { Count: > 0 } captured)
                {
                    _captured.AddRange(captured);
                    captured.Clear();
                }

                if (core.FlushTrace is { Count: > 0 } trace)
                {
                    _flushTrace.AddRange(trace.Select(t => $"@{_log.Count} {t}"));
                    trace.Clear();
                }

                switch (e)
                {
                    case SecureView v:
                        _views.Add(v);
                        _log.Add($"view {v.Epoch} [{string.Join(",", v.Members)}]");
                        break;
                    case SecureMessage m:
                        string text = Encoding.ASCII.GetString(m.Body.Span);
                        _texts.Add(text);
                        _log.Add($"{m.Sender}: {text}");
                        break;
                }
            }

            Signal();
        }
    }

    private void Signal() => Interlocked.Exchange(ref _next, new(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();
}
