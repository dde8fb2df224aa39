using System.Diagnostics;
using Conclave.Client.Secure;
using Conclave.Crypto;

namespace Conclave.Cli.Commands.Groups;

/// <summary>
/// The measurements behind `conclave bench groups` (the paper's Figure 3 and a throughput ratio), over a
/// <see cref="BenchRing"/>. Members are spread as in the paper: the first at d1, the second at d2, all others at d3.
/// </summary>
internal sealed class GroupsBenchmark(BenchRing ring, Action<string> progress)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private int _groups;

    /// <summary>Gets where each change at the largest size is described member by member (<see cref="MemberTimeline"/>), or null.</summary>
    public Action<string>? Timeline { get; init; }

    private (long TokenVisits, long PacketsSent) RingSince(long tokens, long packets)
    {
        (long t, long p) = ring.Counters.Read();
        return (t - tokens, p - packets);
    }

    /// <summary>
    /// Grows a group one join at a time from 1 to <paramref name="maxN"/> members, measuring each join, then shrinks it
    /// one leave at a time (the newest member) back to 1, measuring each leave. n counts the joiner or the leaver.
    /// </summary>
    public async Task<List<GroupsSample>> MembershipAsync(BenchMode mode, int maxN, string phase, CancellationToken cancellationToken)
    {
        var samples = new List<GroupsSample>();
        await using var group = new MeasuredGroup(ring, mode, $"bench-{mode.Name}-{Interlocked.Increment(ref _groups)}", maxN);
        await Within(group.JoinNextAsync(cancellationToken), () => $"{mode.Label}: the first member to connect and join");
        await WhenAllHaveAsync(group.Members, v => v.Count == 1, () => $"{mode.Label}: the first member's view", cancellationToken);
        long frames = ring.FramesToClients;
        long tokens = ring.Counters.Read().TokenVisits;
        void CountFrames()
        {
            // The deliveries of an event run on after its last view (Flush's FLUSH_RECVs), and the token circulates a while
            // after the last message: count both up to the next event.
            long now = ring.FramesToClients;
            long tokensNow = ring.Counters.Read().TokenVisits;
            if (samples.Count > 0)
            {
                samples[^1] = samples[^1] with { FramesToClients = now - frames, TokenVisits = tokensNow - tokens };
            }

            frames = now;
            tokens = tokensNow;
        }

        for (int n = 2; n <= maxN; n++)
        {
            progress($"{phase} {mode.Label} join n={n}/{maxN}");
            CountFrames();
            KeyAgreementOperations before = Operations(group.Members);
            TimeSpan cpu = Environment.CpuUsage.TotalTime;
            RuntimeActivity runtime = RuntimeActivity.Now();
            long start = Stopwatch.GetTimestamp();
            BenchMember joiner = await Within(group.JoinNextAsync(cancellationToken), () => $"{mode.Label} join n={n}: the joiner to connect and send its join");
            long end = await WhenAllHaveAsync(group.Members, v => v.Count == n && v.Contains(joiner.PrivateGroup), () => $"{mode.Label} join n={n}: every member to install the view of {n} members", cancellationToken);
            samples.Add(WithPhases(new GroupsSample(mode, "join", n, Stopwatch.GetElapsedTime(start, end).TotalMilliseconds, (Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds), group.Members, start, n)
                with { Operations = mode.Kind == BenchModeKind.Secure ? Operations(group.Members) - before : null });
            if (n == maxN)
            {
                Timeline?.Invoke(MemberTimeline.Describe($"timeline {phase} {mode.Label} join n={n} ({(RuntimeActivity.Now() - runtime).Describe()})", group.Members, start, n));
            }
        }

        for (int n = maxN; n >= 2; n--)
        {
            progress($"{phase} {mode.Label} leave n={n}/{maxN}");
            CountFrames();
            BenchMember leaver = group.Members[^1];
            List<BenchMember> staying = group.Members[..^1];
            KeyAgreementOperations before = Operations(group.Members);
            TimeSpan cpu = Environment.CpuUsage.TotalTime;
            RuntimeActivity runtime = RuntimeActivity.Now();
            long start = Stopwatch.GetTimestamp();
            await Within(leaver.LeaveAsync(cancellationToken).AsTask(), () => $"{mode.Label} leave n={n}: the leaver to send its leave");
            long end = await WhenAllHaveAsync(staying, v => v.Count == n - 1 && !v.Contains(leaver.PrivateGroup), () => $"{mode.Label} leave n={n}: every remaining member to install the view of {n - 1} members", cancellationToken);
            samples.Add(WithPhases(new GroupsSample(mode, "leave", n, Stopwatch.GetElapsedTime(start, end).TotalMilliseconds, (Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds), staying, start, n - 1)
                with { Operations = mode.Kind == BenchModeKind.Secure ? Operations(group.Members) - before : null });
            if (n == maxN)
            {
                Timeline?.Invoke(MemberTimeline.Describe($"timeline {phase} {mode.Label} leave n={n} ({(RuntimeActivity.Now() - runtime).Describe()})", staying, start, n - 1));
            }
            await Within(group.RemoveNewestAsync(), () => $"{mode.Label} leave n={n}: the leaver's session to close");
        }

        CountFrames();
        return samples;
    }

    /// <summary>
    /// One member at d1 multicasts <paramref name="messages"/> AGREED messages of <paramref name="size"/> bytes; the time runs
    /// until every other member has received all of them. At most <paramref name="window"/> messages are in flight.
    /// </summary>
    public async Task<ThroughputSample> ThroughputAsync(BenchMode mode, int members, int messages, int size, int window, TimeSpan jitQuiet, CancellationToken cancellationToken)
    {
        // Disposed after the group (declared before it): an abandoned run's receivers may still count messages until their sessions close.
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var pacing = new FloodWindow(window, members - 1);
        await using var group = new MeasuredGroup(ring, mode, $"bench-{mode.Name}-{Interlocked.Increment(ref _groups)}", members);
        for (int n = 1; n <= members; n++)
        {
            progress($"throughput {mode.Label}: joining {n}/{members}");
            await Within(group.JoinNextAsync(cancellationToken), () => $"throughput {mode.Label}: member {n} of {members} to connect and join");
        }

        await WhenAllHaveAsync(group.Members, v => v.Count == members, () => $"throughput {mode.Label}: every member to install the view of {members} members", cancellationToken);
        BenchMember sender = group.Members[0];
        List<BenchMember> receivers = group.Members[1..];

        // A view change during the run is a reconfiguration (daemons starved of CPU drop out for a moment): messages the
        // sender's side delivered meanwhile never reach the other side (extended virtual synchrony allows it, and the
        // view change says so), so the window would wait for them for ever. Such a run is abandoned at once and repeated.
        Task<Task<long>> viewChanged = Task.WhenAny(group.Members.Select(m => m.Views.NextAsync()));
        var finished = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        int done = 0;
        for (int i = 0; i < receivers.Count; i++)
        {
            int index = i;
            BenchMember receiver = receivers[i];
            receiver.OnData = () =>
            {
                pacing.Received(index);
                if (receiver.Received == messages && Interlocked.Increment(ref done) == receivers.Count)
                {
                    finished.TrySetResult(Stopwatch.GetTimestamp());
                }
            };
        }

        byte[] body = new byte[size];
        Random.Shared.NextBytes(body);

        // The set-up above ran code that tiered JIT may now recompile in the background: let it finish first.
        if (jitQuiet > TimeSpan.Zero)
        {
            await JitQuiet.WaitAsync(jitQuiet, JitQuiet.Limit, cancellationToken);
        }

        (long jitMethods, TimeSpan jitTime) = JitQuiet.Read();
        int waitsForRoom = 0, waitsForSend = 0;
        long roomTicks = 0, sendTicks = 0;
        TimeSpan cpu = Environment.CpuUsage.TotalTime;
        (long items, long contentions, int gen0) = (ThreadPool.CompletedWorkItemCount, Monitor.LockContentionCount, GC.CollectionCount(0));
        (long tokens, long packets) = ring.Counters.Read();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < messages; i++)
        {
            // Checked first so that the usual case (room, written at once) costs the measured loop nothing.
            Task room = pacing.AcquireAsync(run.Token);
            long t0 = Stopwatch.GetTimestamp();
            if (!room.IsCompletedSuccessfully)
            {
                waitsForRoom++;
                await Within(UnlessViewChanged(room, viewChanged, run, () => $"waiting for room to send message {i + 1} of {messages} (received so far: {Counts(receivers)}; daemons: {ring.Report})"), () => $"throughput {mode.Label}: room in the window of {window} messages to send message {i + 1} of {messages} (received so far: {Counts(receivers)}; daemons: {ring.Report})");
            }

            long t1 = Stopwatch.GetTimestamp();
            ValueTask sent = sender.SendAsync(body, run.Token);
            if (!sent.IsCompletedSuccessfully)
            {
                waitsForSend++;
                await Within(UnlessViewChanged(sent.AsTask(), viewChanged, run, () => $"sending message {i + 1} of {messages}"), () => $"throughput {mode.Label}: message {i + 1} of {messages} to be written");
            }

            long t2 = Stopwatch.GetTimestamp();
            roomTicks += t1 - t0;
            sendTicks += t2 - t1;
            if (i % 500 == 0)
            {
                progress($"throughput {mode.Label}: {i}/{messages}");
            }
        }

        await Within(
            UnlessViewChanged(finished.Task.WaitAsync(cancellationToken), viewChanged, run, () => $"waiting for the last messages (received so far: {Counts(receivers)}; daemons: {ring.Report})"),
            () => $"throughput {mode.Label}: every receiver to get all {messages} messages (received so far: {Counts(receivers)}; daemons: {ring.Report})");
        long end = await finished.Task;
        (long jitMethodsAfter, TimeSpan jitTimeAfter) = JitQuiet.Read();
        return new ThroughputSample(mode, members, messages, size, Stopwatch.GetElapsedTime(start, end).TotalSeconds)
        {
            CpuSeconds = (Environment.CpuUsage.TotalTime - cpu).TotalSeconds,
            Runtime = (ThreadPool.CompletedWorkItemCount - items, Monitor.LockContentionCount - contentions, GC.CollectionCount(0) - gen0),
            SenderWaits = (waitsForRoom, waitsForSend),
            Ring = RingSince(tokens, packets),
            Jit = (jitMethodsAfter - jitMethods, (jitTimeAfter - jitTime).TotalMilliseconds),
            SenderSeconds = (roomTicks / (double)Stopwatch.Frequency, sendTicks / (double)Stopwatch.Frequency),
        };
    }

    /// <summary>Adds when the last member reached each milestone of the change (Flush and secure modes).</summary>
    private static GroupsSample WithPhases(GroupsSample sample, List<BenchMember> members, long start, int size) => sample.Mode.Kind switch
    {
        BenchModeKind.Plain => sample,
        BenchModeKind.Flush => sample with
        {
            SpreadViewMilliseconds = LastMark(members, KeyingLog.SpreadViewReceived, start, size),
            FlushViewMilliseconds = LastMark(members, KeyingLog.FlushViewInstalled, start, size),
        },
        _ => sample with
        {
            SpreadViewMilliseconds = LastMark(members, KeyingLog.SpreadViewReceived, start, size),
            FlushViewMilliseconds = LastMark(members, KeyingLog.FlushViewInstalled, start, size),
            KeyAgreementStartMilliseconds = LastMark(members, KeyingLog.KeyAgreementStarted, start, size),
            FirstKeyAgreementMilliseconds = size < 2 ? null : LastMark(members, KeyingLog.FirstKeyAgreementMessage, start, size),
            FirstSentMilliseconds = size < 2 ? null : SentMark(members, start, size, last: false),
            LastSentMilliseconds = size < 2 ? null : SentMark(members, start, size, last: true),
        },
    };

    /// <summary>Milliseconds from <paramref name="start"/> until the last member logged <paramref name="eventId"/> for a view of <paramref name="size"/> members.</summary>
    private static double? LastMark(IEnumerable<BenchMember> members, int eventId, long start, int size)
    {
        long last = start;
        foreach (BenchMember m in members)
        {
            if (m.Keying.FirstSince(eventId, start, size) is not long at)
            {
                return null;
            }

            last = Math.Max(last, at);
        }

        return Stopwatch.GetElapsedTime(start, last).TotalMilliseconds;
    }

    /// <summary>What the members' key agreements have done so far (read between events, when every member is idle).</summary>
    private static KeyAgreementOperations Operations(IEnumerable<BenchMember> members) => KeyAgreementOperations.Of(members.Select(m => m.Operations));

    /// <summary>Milliseconds from <paramref name="start"/> until the earliest (or latest) key agreement message any member computed for a view of <paramref name="size"/> members.</summary>
    private static double? SentMark(IEnumerable<BenchMember> members, long start, int size, bool last)
    {
        long? mark = null;
        foreach (BenchMember m in members)
        {
            long? at = last ? m.Keying.LastSince(KeyingLog.KeyAgreementSent, start, size) : m.Keying.FirstSince(KeyingLog.KeyAgreementSent, start, size);
            if (at is long t && (mark is null || (last ? t > mark : t < mark)))
            {
                mark = t;
            }
        }

        return mark is long found ? Stopwatch.GetElapsedTime(start, found).TotalMilliseconds : null;
    }

    /// <summary>The moment the last of <paramref name="members"/> installed a view matching <paramref name="match"/>.</summary>
    private static async Task<long> WhenAllHaveAsync(IEnumerable<BenchMember> members, Func<IReadOnlyList<string>, bool> match, Func<string> what, CancellationToken cancellationToken)
    {
        long[] times = await Within(Task.WhenAll(members.Select(m => m.Views.WhenAsync(match))).WaitAsync(cancellationToken), what);
        return times.Max();
    }

    /// <summary>Waits for <paramref name="task"/>; if a member installs a view first, cancels the run and throws <see cref="ThroughputDisturbedException"/>.</summary>
    private static async Task UnlessViewChanged(Task task, Task<Task<long>> viewChanged, CancellationTokenSource run, Func<string> what)
    {
        if (await Task.WhenAny(task, viewChanged) != task)
        {
            await run.CancelAsync();
            throw new ThroughputDisturbedException($"a member installed a view during the run, {what()}");
        }

        await task;
    }

    /// <summary>Waits for <paramref name="task"/>, at most <see cref="Patience"/>: a stalled step fails saying what it waited for.</summary>
    private static async Task Within(Task task, Func<string> what)
    {
        try
        {
            await task.WaitAsync(Patience);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"bench groups gave up after {Patience.TotalSeconds:0} s waiting for {what()}.", e);
        }
    }

    /// <inheritdoc cref="Within(Task, Func{string})"/>
    private static async Task<T> Within<T>(Task<T> task, Func<string> what)
    {
        await Within((Task)task, what);
        return await task;
    }

    /// <summary>How many measured messages each receiver has, for a stall's message (only evaluated when a stall's message is built).</summary>
    private static string Counts(List<BenchMember> receivers) => string.Join(", ", receivers.Select(r => $"{r.PrivateGroup} {r.Received} ({r.Views.Summary}{r.Dropped})"));

    /// <summary>A group being measured: its members in join order, their identities and the trust directory (secure modes).</summary>
    private sealed class MeasuredGroup : IAsyncDisposable
    {
        private readonly BenchRing _ring;
        private readonly BenchMode _mode;
        private readonly string _name;
        private readonly string _prefix;
        private readonly MemberIdentity[] _identities;
        private readonly MemberDirectory _directory = new();

        public MeasuredGroup(BenchRing ring, BenchMode mode, string name, int capacity)
        {
            _ring = ring;
            _mode = mode;
            _name = name;
            _prefix = "b" + name.Split('-')[^1];

            // Every member may be at any daemon; the directory is complete before anyone joins (it is shared, not locked).
            _identities = new MemberIdentity[mode.Kind == BenchModeKind.Secure ? capacity : 0];
            for (int i = 0; i < _identities.Length; i++)
            {
                _identities[i] = MemberIdentity.Generate();
                foreach (string daemon in ring.Names)
                {
                    _directory.Add($"#{MemberName(i)}#{daemon}", _identities[i].PublicKey);
                }
            }
        }

        public List<BenchMember> Members { get; } = [];

        /// <summary>Connects and joins the next member: the first at d1, the second at d2, the rest at d3.</summary>
        public async Task<BenchMember> JoinNextAsync(CancellationToken cancellationToken)
        {
            int index = Members.Count;
            int daemon = Math.Min(index, 2);
            SecureGroupOptions? secure = _mode.Kind == BenchModeKind.Secure
                ? new SecureGroupOptions { Protocol = _mode.Protocol, Identity = _identities[index], Directory = _directory, CoordinatedFlush = _mode.CoordinatedFlush }
                : null;
            BenchMember member = await BenchMember.JoinAsync(_mode, _ring.SpreadName(daemon), MemberName(index), _ring.Names[daemon], _name, secure, cancellationToken);
            Members.Add(member);
            return member;
        }

        public async Task RemoveNewestAsync()
        {
            BenchMember last = Members[^1];
            Members.RemoveAt(Members.Count - 1);
            await last.DisposeAsync();
        }

        public async ValueTask DisposeAsync()
        {
            for (int i = Members.Count - 1; i >= 0; i--)
            {
                await Members[i].DisposeAsync();
            }

            foreach (MemberIdentity identity in _identities)
            {
                identity.Dispose();
            }
        }

        private string MemberName(int index) => $"{_prefix}m{index}";
    }
}
