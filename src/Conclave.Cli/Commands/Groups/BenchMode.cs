using Conclave.Crypto.KeyAgreement;

namespace Conclave.Cli.Commands.Groups;

internal enum BenchModeKind
{
    Plain,
    Flush,
    Secure,
}

/// <summary>What a group in `bench groups` runs on: a plain Spread group, the Flush layer, or a secure group with one key agreement protocol.</summary>
internal sealed record BenchMode(string Name, BenchModeKind Kind, KeyAgreementProtocol Protocol)
{
    public static IReadOnlyList<string> Names { get; } = ["plain", "flush", "gdh", "ckd", "tgdh"];

    /// <summary>Gets a value indicating whether a secure group's Flush layer uses the coordinator exchange (false: the
    /// "-fl" modes, FL's FLUSH_OK multicasts, to compare in one run).</summary>
    public bool CoordinatedFlush { get; init; } = true;

    /// <summary>The column heading in tables and the legend in plots.</summary>
    public string Label => Kind switch
    {
        BenchModeKind.Plain => "plain",
        BenchModeKind.Flush => "flush",
        _ => "secure " + Name.ToUpperInvariant().Replace("-FL", "-fl", StringComparison.Ordinal),
    };

    public static BenchMode Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "plain" => new BenchMode("plain", BenchModeKind.Plain, default),
        "flush" => new BenchMode("flush", BenchModeKind.Flush, default),
        "gdh" => new BenchMode("gdh", BenchModeKind.Secure, KeyAgreementProtocol.Gdh),
        "ckd" => new BenchMode("ckd", BenchModeKind.Secure, KeyAgreementProtocol.Ckd),
        "tgdh" => new BenchMode("tgdh", BenchModeKind.Secure, KeyAgreementProtocol.Tgdh),
        "gdh-fl" => new BenchMode("gdh-fl", BenchModeKind.Secure, KeyAgreementProtocol.Gdh) { CoordinatedFlush = false },
        "ckd-fl" => new BenchMode("ckd-fl", BenchModeKind.Secure, KeyAgreementProtocol.Ckd) { CoordinatedFlush = false },
        "tgdh-fl" => new BenchMode("tgdh-fl", BenchModeKind.Secure, KeyAgreementProtocol.Tgdh) { CoordinatedFlush = false },
        _ => throw new ArgumentException($"unknown mode '{name}' (expected one of {string.Join(", ", Names)}, or gdh-fl, ckd-fl, tgdh-fl)"),
    };
}

/// <summary>
/// One measured membership change: the time from the request until the last member had the new view (secure: view and
/// key), and the CPU time the whole process (three daemons and every member) used meanwhile.
/// </summary>
internal sealed record GroupsSample(BenchMode Mode, string Event, int N, double Milliseconds, double CpuMilliseconds)
{
    /// <summary>Flush and secure groups: the time until the last member's Flush layer installed the view, or null.</summary>
    public double? FlushViewMilliseconds { get; init; }

    /// <summary>Secure groups: until the last member's secure layer had the Flush view (its key agreement started), or null.</summary>
    public double? KeyAgreementStartMilliseconds { get; init; }

    /// <summary>Secure groups: until the first key agreement message of the change was computed (by any member), or null.</summary>
    public double? FirstSentMilliseconds { get; init; }

    /// <summary>Secure groups: until the last key agreement message of the change was computed (by any member), or null.</summary>
    public double? LastSentMilliseconds { get; init; }

    /// <summary>Flush and secure groups: until the last member had the Spread view (the flush request), or null.</summary>
    public double? SpreadViewMilliseconds { get; init; }

    /// <summary>Secure groups: until the last member had its first key agreement message of the new view, or null.</summary>
    public double? FirstKeyAgreementMilliseconds { get; init; }

    /// <summary>Secure groups: the public-key operations every member's key agreement did for the event, or null.</summary>
    public KeyAgreementOperations? Operations { get; init; }

    /// <summary>Frames the daemons wrote to clients from this event's start to the next event's start (a count of deliveries, not a time).</summary>
    public long? FramesToClients { get; init; }

    /// <summary>Token visits of the three daemons over the same span as <see cref="FramesToClients"/>: the ring's own work for the event (an idle token still circulates a while).</summary>
    public long? TokenVisits { get; init; }
}

/// <summary>One throughput run: one sender, the others receive every message.</summary>
internal sealed record ThroughputSample(BenchMode Mode, int Members, int Messages, int Size, double Seconds)
{
    /// <summary>CPU time of the whole process (daemons, members, bench) during the measured run, or null.</summary>
    public double? CpuSeconds { get; init; }

    /// <summary>Thread-pool work items completed, contended lock entries and gen-0 collections during the measured run (whole process).</summary>
    public (long WorkItems, long LockContentions, int Gen0Collections) Runtime { get; init; }

    /// <summary>How often the sender found the window full (it waited for the slowest receiver) and how often a send did not complete at once.</summary>
    public (int ForRoom, int ForSend) SenderWaits { get; init; }

    /// <summary>Wall time the sender spent waiting for room in the window and in its send calls (the rest: the loop itself).</summary>
    public (double WaitingForRoom, double Sending) SenderSeconds { get; init; }

    /// <summary>Token visits and UDP packets of the three daemons during the measured run.</summary>
    public (long TokenVisits, long PacketsSent) Ring { get; init; }

    /// <summary>Methods the JIT compiled and its compile time (ms, all threads) during the measured run: tiering that overlapped it.</summary>
    public (long Methods, double Milliseconds) Jit { get; init; }

    /// <summary>Process CPU per message in microseconds: less sensitive to other processes than the rate, but it counts every thread of the process.</summary>
    public double? CpuMicrosecondsPerMessage => CpuSeconds is double cpu ? cpu * 1e6 / Messages : null;

    /// <summary>Which interleaved round the run belonged to (0 for a warm-up run).</summary>
    public int Round { get; init; }

    /// <summary>
    /// Over the measured rounds: each run's rate divided by the plain run's of the same round (adjacent in time, so a
    /// burst of load elsewhere hits both), median and range; null without plain runs.
    /// </summary>
    public (double Median, double Min, double Max)? PairedRatio { get; init; }

    /// <summary>How many runs the median was taken over (1 for a single run).</summary>
    public int Rounds { get; init; } = 1;

    public double MessagesPerSecond => Messages / Seconds;

    public double MegabytesPerSecond => Messages * (double)Size / Seconds / 1e6;
}

/// <summary>Public-key operations of a group's members added up: variable- and fixed-base exponentiations, Ed25519 signatures made and verified.</summary>
internal readonly record struct KeyAgreementOperations(long Exponentiations, long Signatures, long Verifications)
{
    public static KeyAgreementOperations Of(IEnumerable<Conclave.Crypto.OperationCounter?> counters)
    {
        long exp = 0, sign = 0, verify = 0;
        foreach (Conclave.Crypto.OperationCounter? c in counters)
        {
            if (c is not null)
            {
                exp += c.TotalExponentiations + c.PrecomputedExponentiations;
                sign += c.Signatures;
                verify += c.Verifications;
            }
        }

        return new KeyAgreementOperations(exp, sign, verify);
    }

    public static KeyAgreementOperations operator -(KeyAgreementOperations a, KeyAgreementOperations b) =>
        new(a.Exponentiations - b.Exponentiations, a.Signatures - b.Signatures, a.Verifications - b.Verifications);
}
