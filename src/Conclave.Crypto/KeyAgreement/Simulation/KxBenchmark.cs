using System.Runtime;

namespace Conclave.Crypto.KeyAgreement.Simulation;

/// <summary>One measured membership event.</summary>
/// <param name="Protocol">The protocol.</param>
/// <param name="Group">The DH group's name.</param>
/// <param name="Event"><c>join</c> or <c>leave</c>.</param>
/// <param name="N">Group size, counting the joiner or the leaver.</param>
/// <param name="SerialExps">Exponentiations on the longest causal chain (what the paper's Tables 2–4 count).</param>
/// <param name="TotalExps">Exponentiations by all members together.</param>
/// <param name="Validations">Group-membership checks of received elements by all members (MODP: a full exponentiation each).</param>
/// <param name="SerialMs">Computation time along the longest causal chain (single thread, milliseconds).</param>
/// <param name="TotalMs">Computation time of all members together (milliseconds).</param>
internal sealed record KxSample(
    KeyAgreementProtocol Protocol, string Group, string Event, int N, long SerialExps, long TotalExps, long Validations, double SerialMs, double TotalMs);

/// <summary>
/// The key agreement benchmark behind <c>conclave bench kx</c>: join and leave cost against group size, measured
/// in the deterministic simulator (pure computation, no network). n counts the joiner for a join and the leaver for
/// a leave, as in the paper's Table 2–4 footnote.
/// </summary>
internal static class KxBenchmark
{
    private const long NoGcBudget = 1L << 30;
    private const int TgdhWarmUpSize = 64;

    /// <summary>
    /// GDH and CKD: the group grows by single joins to <paramref name="maxN"/> (each join measured), then shrinks by
    /// single leaves of a middle member (each measured). TGDH: for each size a balanced tree is dealt, then one join and
    /// one leave are measured, <paramref name="tgdhRepeats"/> times each on identical trees; the sample is the median by serial time.
    /// </summary>
    public static IEnumerable<KxSample> Run(KeyAgreementProtocol protocol, DhGroup group, int maxN, Func<int, bool> sample, Action<string>? progress = null, int tgdhRepeats = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tgdhRepeats, 1);
        // Warm-up: a throw-away run so the first measured sizes do not pay for JIT compilation. TGDH's is a dealt tree
        // of 64: at 4 the sealed-path boxes are never made or opened, so the first measured repetition compiled them
        // (several ms on one event, which moved the median of five).
        foreach (KxSample unused in protocol == KeyAgreementProtocol.Tgdh
            ? RunDealt(protocol, group, TgdhWarmUpSize, n => n == TgdhWarmUpSize, null, 1)
            : RunGrowth(protocol, group, 4, _ => true, null))
        {
            _ = unused;
        }

        return protocol == KeyAgreementProtocol.Tgdh ? RunDealt(protocol, group, maxN, sample, progress, tgdhRepeats) : RunGrowth(protocol, group, maxN, sample, progress);
    }

    /// <summary>
    /// Thread CPU time of one variable-base and one fixed-base exponentiation right now (mean of <paramref name="count"/>
    /// each): on a shared machine it tells how much of a critical path is exponentiation and how much is the rest.
    /// </summary>
    public static (double ExpMicroseconds, double ExpBaseMicroseconds) Calibrate(DhGroup group, int count = 200)
    {
        var counter = new OperationCounter();
        var random = new SeededRandomSource(count);
        byte[] scalar = group.RandomScalar(random);
        byte[] element = group.ExpBase(group.RandomScalar(random), counter);
        long t0 = ThreadCpuClock.NowNanoseconds();
        for (int i = 0; i < count; i++)
        {
            element = group.Exp(element, scalar, counter);
        }

        long t1 = ThreadCpuClock.NowNanoseconds();
        for (int i = 0; i < count; i++)
        {
            element = group.ExpBase(scalar, counter);
        }

        long t2 = ThreadCpuClock.NowNanoseconds();
        return ((t1 - t0) / 1e3 / count, (t2 - t1) / 1e3 / count);
    }

    private static IEnumerable<KxSample> RunGrowth(KeyAgreementProtocol protocol, DhGroup group, int maxN, Func<int, bool> sample, Action<string>? progress)
    {
        using var sim = new Simulator(protocol, group, 1);
        List<string> members = [sim.Create().Name];
        sim.Install(members);
        sim.Run();
        for (int n = 2; n <= maxN; n++)
        {
            progress?.Invoke($"{protocol} {group.Name} join n={n}/{maxN}");
            members.Add(sim.Create().Name);
            KxSample s = Measure(sim, protocol, group, "join", n, members, () => sim.Install(members));
            if (sample(n))
            {
                yield return s;
            }
        }

        for (int n = maxN; n >= 2; n--)
        {
            progress?.Invoke($"{protocol} {group.Name} leave n={n}/{maxN}");
            members.RemoveAt(n / 2);
            KxSample s = Measure(sim, protocol, group, "leave", n, members, () => sim.Install(members));
            if (sample(n))
            {
                yield return s;
            }
        }
    }

    private static IEnumerable<KxSample> RunDealt(KeyAgreementProtocol protocol, DhGroup group, int maxN, Func<int, bool> sample, Action<string>? progress, int repeats)
    {
        for (int n = 2; n <= maxN; n++)
        {
            if (!sample(n))
            {
                continue;
            }

            var joins = new List<KxSample>(repeats);
            var leaves = new List<KxSample>(repeats);
            for (int r = 0; r < repeats; r++)
            {
                progress?.Invoke(repeats == 1 ? $"{protocol} {group.Name} n={n}/{maxN}" : $"{protocol} {group.Name} n={n}/{maxN} ({r + 1}/{repeats})");
                (KxSample join, KxSample leave) = MeasureDealt(protocol, group, n);
                joins.Add(join);
                leaves.Add(leave);
            }

            yield return Median(joins);
            yield return Median(leaves);
        }
    }

    // Every repetition runs the same seeded event on the same tree, so counts agree and only the timing varies:
    // the median is the figure a noisy shared machine can reproduce.
    private static KxSample Median(List<KxSample> samples) => samples.OrderBy(s => s.SerialMs).ElementAt(samples.Count / 2);

    private static (KxSample Join, KxSample Leave) MeasureDealt(KeyAgreementProtocol protocol, DhGroup group, int n)
    {
        using var sim = new Simulator(protocol, group, n);
        List<string> members = Enumerable.Range(0, n).Select(_ => sim.Create().Name).ToList();

        // Join at n: n-1 settled members and one newcomer.
        string joiner = members[^1];
        sim.DealTgdh(members[..^1]);
        sim.Install([joiner]);
        sim.Run();
        KxSample join = Measure(sim, protocol, group, "join", n, members, () => sim.Install(members));

        // Leave at n: n settled members, one in the middle leaves.
        sim.DealTgdh(members);
        members.RemoveAt(n / 2);
        KxSample leave = Measure(sim, protocol, group, "leave", n, members, () => sim.Install(members));
        return (join, leave);
    }

    /// <summary>
    /// Touches, then drops, small-object memory in proportion to the group size, so that the no-GC region below
    /// allocates mostly in pages the process has already faulted in. A member process allocates in a gen0 that each
    /// collection recycles, so its steps run on warm pages; a no-GC region instead hands out memory that may never
    /// have been touched, and on this machine a first touch costs a page fault of about 2.5 µs per 4 KB page, with a
    /// long tail. Unwarmed, a join at n = 1000 took ~22,000 faults: the joiner's step that reads its copy of the tree
    /// (~300 KB of nodes) paid 75 of them, its cost swung between 0.4 and 2 ms and with it the critical chain (the
    /// bimodal join: docs/benchmarks.md). Warmed, ~1,600. The work measured is unchanged; set
    /// CONCLAVE_KX_COLD_HEAP=1 to measure without warming.
    /// </summary>
    private static void WarmHeap(int n)
    {
        if (Environment.GetEnvironmentVariable("CONCLAVE_KX_COLD_HEAP") is not null)
        {
            return;
        }

        const int Chunk = 60_000; // below the large-object threshold: the event's allocations are small objects
        long bytes = Math.Clamp(n * (256L << 10), 16L << 20, 256L << 20);
        var chunks = new List<byte[]>((int)(bytes / Chunk) + 1);
        for (long done = 0; done < bytes; done += Chunk)
        {
            byte[] chunk = new byte[Chunk];
            for (int at = 0; at < Chunk; at += 4096)
            {
                chunk[at] = 1;
            }

            chunks.Add(chunk);
        }

        chunks.Clear();
    }

    // Field 10 of /proc/self/stat: minor page faults of the process (debug output only).
    private static long MinorFaults() =>
        File.Exists("/proc/self/stat") ? long.Parse(File.ReadAllText("/proc/self/stat").Split(") ")[1].Split(' ')[7], System.Globalization.CultureInfo.InvariantCulture) : 0;

    private static KxSample Measure(Simulator sim, KeyAgreementProtocol protocol, DhGroup group, string kind, int n, List<string> members, Action install)
    {
        long expsBefore = sim.Members.Sum(m => m.Counter.TotalExponentiations);
        long validationsBefore = sim.Members.Sum(m => m.Counter.Validations);
        sim.ResetMeasurement();
        bool debug = Environment.GetEnvironmentVariable("CONCLAVE_KX_DEBUG") is not null;
        sim.TraceSteps = debug;
        // Set-up garbage is collected before the event, and the event runs in a no-GC region when it fits: the
        // simulator keeps every member's tree in one heap, and a full collection of a thousand members' state
        // is an artefact of simulating them in one process, not a cost any one member would pay.
        WarmHeap(n);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        bool noGc = false;
        for (long budget = NoGcBudget; !noGc && budget >= 64L << 20; budget /= 2)
        {
            try
            {
                noGc = GC.TryStartNoGCRegion(budget);
            }
            catch (ArgumentOutOfRangeException)
            {
            }
        }

        int gcBefore = GC.CollectionCount(0);
        long faultsBefore = debug ? MinorFaults() : 0;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            install();
            sim.Run();
            if (debug)
            {
                Console.Error.WriteLine($"\n{protocol} {kind} n={n}: noGc={noGc} gcs={GC.CollectionCount(0) - gcBefore} allocated={(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) >> 20} MiB minor faults={MinorFaults() - faultsBefore}");
                foreach ((string member, string what, double us, long exps) in sim.CriticalPath(members))
                {
                    Console.Error.WriteLine($"  {member} {what}: {us:F0} µs, {exps} exp");
                }
            }
        }
        finally
        {
            if (noGc && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            {
                GC.EndNoGCRegion();
            }
        }

        if (sim.Rejections.Count > 0 || members.Any(m => !sim[m].Module.IsSettled))
        {
            throw new InvalidOperationException($"{protocol}/{group.Name} {kind} at n={n} did not converge.");
        }

        (long serialExps, long serialTicks) = sim.SerialCost(members);
        return new KxSample(
            protocol,
            group.Name,
            kind,
            n,
            serialExps,
            sim.Members.Sum(m => m.Counter.TotalExponentiations) - expsBefore,
            sim.Members.Sum(m => m.Counter.Validations) - validationsBefore,
            serialTicks / 1e6,
            sim.TotalTicks / 1e6);
    }
}
