
namespace Conclave.Crypto.KeyAgreement.Simulation;

/// <summary>
/// Drives key agreement modules through an in-memory, deterministic network with the delivery guarantees the
/// modules assume (views before messages, agreed-order broadcasts including self-delivery, FIFO unicasts).
/// </summary>
/// <remarks>
/// Also measures each event's serial cost: a Lamport-style clock per member carries the exponentiations (and
/// elapsed ticks) of the longest causal chain, so "serial exponentiations" is measured, not computed by formula.
/// Used by the tests and by <c>conclave bench kx</c>.
/// </remarks>
internal sealed class Simulator : IDisposable
{
    private readonly KeyAgreementProtocol _protocol;
    private readonly DhGroup _group;
    private readonly int _seed;
    private readonly MemberDirectory _directory = new();
    private readonly Dictionary<string, SimulatedMember> _members = new(StringComparer.Ordinal);
    private readonly List<string> _age = [];
    private readonly Queue<Delivery> _queue = new();
    private readonly Queue<Delivery> _heldUnicasts = new();
    private readonly List<TracedStep> _steps = [];
    private ulong _viewId;
    private int _created;

    public Simulator(KeyAgreementProtocol protocol, DhGroup group, int seed)
    {
        _protocol = protocol;
        _group = group;
        _seed = seed;
    }

    /// <summary>Every rejection seen while running (a correct run has none).</summary>
    public List<(string Member, Rejection Why)> Rejections { get; } = [];

    /// <summary>The current components (disjoint views), each in age order.</summary>
    public List<List<string>> Components { get; } = [];

    /// <summary>Total CPU nanoseconds spent inside modules since the last <see cref="ResetMeasurement"/>.</summary>
    public long TotalTicks { get; private set; }

    /// <summary>Wire messages broadcast since the last <see cref="ResetMeasurement"/> (what an eavesdropper sees).</summary>
    public List<byte[]> Broadcasts { get; } = [];

    /// <summary>
    /// When set, unicasts wait until no broadcast is queued, even past their sender's own later broadcasts: later
    /// than the host allows (see <see cref="HoldUnicastsBehindOthers"/>). Tests use it to check that a module copes
    /// with more reordering than it should ever see.
    /// </summary>
    public bool HoldUnicasts { get; set; }

    /// <summary>
    /// When set, unicasts wait until no broadcast is queued or their sender sends again: the latest order the host
    /// contract allows (agreed delivery orders a unicast against its sender's other messages, not against another
    /// member's broadcasts).
    /// </summary>
    public bool HoldUnicastsBehindOthers { get; set; }

    /// <summary>TGDH: the sponsors' two-part threshold of the members created from now on (<see cref="KeyAgreementOptions.TgdhSplitFrom"/>; 0, one part).</summary>
    public int TgdhSplitFrom { get; set; }

    /// <summary>
    /// When set, after each step a member runs the work its module hands out for the next change (SecureConnection runs it
    /// on the thread pool), outside the step's measured cost. When not set the modules are never asked, as in
    /// <c>bench kx</c>, which measures each event computed from scratch.
    /// </summary>
    public bool Precompute { get; set; }

    /// <summary>With <see cref="Precompute"/>: the work is taken but never run, as if still running when the next change comes.</summary>
    public bool PrecomputeNeverFinishes { get; set; }

    /// <summary>When set, every step is recorded so that <see cref="CriticalPath"/> can say where an event's time went.</summary>
    public bool TraceSteps { get; set; }

    public SimulatedMember this[string name] => _members[name];

    public IEnumerable<SimulatedMember> Members => _members.Values;

    /// <summary>Creates a member (not yet in any view).</summary>
    public SimulatedMember Create(string? name = null)
    {
        name ??= $"m{_created:D4}";
        int index = _created++;
        var seedBytes = new byte[32];
        new SeededRandomSource(HashCode.Combine(_seed, index, 0x5eed)).Fill(seedBytes);
        MemberIdentity identity = MemberIdentity.FromSeed(seedBytes);
        _directory.Add(name, identity.PublicKey);
        var counter = new OperationCounter();
        var options = new KeyAgreementOptions
        {
            Group = "sim-group",
            Self = name,
            Identity = identity,
            Directory = _directory,
            DhGroup = _group,
            Random = new SeededRandomSource(HashCode.Combine(_seed, index)),
            Counter = counter,
            TgdhSplitFrom = TgdhSplitFrom,
        };
        var member = new SimulatedMember(name, KeyAgreementFactory.Create(_protocol, options), identity, counter);
        _members.Add(name, member);
        _age.Add(name);
        return member;
    }

    /// <summary>Installs a view over <paramref name="members"/> (ordered oldest first) and runs it to quiescence.</summary>
    public void Install(IEnumerable<string> members)
    {
        var set = new HashSet<string>(members, StringComparer.Ordinal);
        List<string> ordered = _age.Where(set.Contains).ToList();
        Components.RemoveAll(c => c.Any(set.Contains));
        Components.Add(ordered);
        ulong viewId = ++_viewId;
        // View synchrony as the Flush layer reports it: a member came along only if it comes from the same view. One
        // left behind by an earlier install of part of its component still lists the others in its previous view.
        Dictionary<string, ulong> cameFrom = ordered.ToDictionary(m => m, m => _members[m].PreviousViewId, StringComparer.Ordinal);
        foreach (string name in ordered)
        {
            SimulatedMember member = _members[name];
            var previous = new HashSet<string>(member.PreviousView, StringComparer.Ordinal);
            bool Along(string m) => previous.Contains(m) && cameFrom[m] == member.PreviousViewId;
            var view = new KeyAgreementView(
                viewId,
                ordered,
                ordered.Where(m => m != name && !Along(m)).ToList(),
                member.PreviousView.Where(m => m != name && !(set.Contains(m) && Along(m))).ToList());
            member.PreviousView = ordered;
            member.PreviousViewId = viewId;
            Step(member, 0, 0, -1, "view", () => member.Module.OnView(view));
        }
    }

    /// <summary>Benchmarks only: installs a settled TGDH group over <paramref name="members"/> without running its history.</summary>
    public void DealTgdh(IEnumerable<string> members)
    {
        var set = new HashSet<string>(members, StringComparer.Ordinal);
        List<string> ordered = _age.Where(set.Contains).ToList();
        Components.RemoveAll(c => c.Any(set.Contains));
        Components.Add(ordered);
        var view = new KeyAgreementView(++_viewId, ordered, [], []);
        foreach (string name in ordered)
        {
            _members[name].PreviousView = ordered;
            _members[name].PreviousViewId = view.ViewId;
        }

        TgdhModule.DealForBenchmark(ordered.Select(n => (TgdhModule)_members[n].Module).ToList(), view);
    }

    /// <summary>Installs several views "at once" (a partition) before running any message.</summary>
    public void InstallAll(IEnumerable<IEnumerable<string>> components)
    {
        foreach (IEnumerable<string> component in components)
        {
            Install(component);
        }
    }

    /// <summary>Asks <paramref name="member"/> for a refresh.</summary>
    public StepResult Refresh(string member)
    {
        StepResult result = null!;
        SimulatedMember m = _members[member];
        Step(m, m.SerialClock, m.SerialTicks, m.LastStep, "refresh", () => result = m.Module.RequestRefresh());
        return result;
    }

    /// <summary>Delivers queued messages until none is left (or <paramref name="limit"/> deliveries).</summary>
    public void Run(int limit = int.MaxValue)
    {
        while ((_queue.Count > 0 || _heldUnicasts.Count > 0) && limit-- > 0)
        {
            if (_queue.Count == 0)
            {
                _queue.Enqueue(_heldUnicasts.Dequeue());
            }

            // A broadcast reaches all its recipients at once, so members that stay together deliver the same
            // messages (view synchrony) even when a run is cut short between two deliveries.
            Delivery d = _queue.Dequeue();
            foreach (string recipient in d.To)
            {
                if (!Components.Any(c => c.Contains(recipient) && c.Contains(d.From)))
                {
                    continue; // the view changed: the network no longer connects them
                }

                SimulatedMember to = _members[recipient];
                to.Received.Add(d.Wire);
                Step(to, d.Exps, d.Ticks, d.Step, TraceSteps ? Describe(d) : string.Empty, () => to.Module.OnMessage(d.Wire));
            }
        }
    }

    /// <summary>Drops every queued message (a view change that cuts a run short).</summary>
    public int DropQueued()
    {
        int n = _queue.Count + _heldUnicasts.Count;
        _queue.Clear();
        _heldUnicasts.Clear();
        return n;
    }

    public int Queued => _queue.Count + _heldUnicasts.Count;

    /// <summary>Queues <paramref name="wire"/> as a broadcast from <paramref name="from"/> to its component (tests: a message a member did not produce).</summary>
    public void InjectBroadcast(string from, byte[] wire) =>
        _queue.Enqueue(new Delivery(from, Components.First(c => c.Contains(from)).ToArray(), wire, 0, 0, -1));

    public void ResetMeasurement()
    {
        foreach (SimulatedMember m in _members.Values)
        {
            m.SerialClock = 0;
            m.SerialTicks = 0;
            m.KeyStamp = (0, 0);
            m.LastStep = -1;
            m.KeyStep = -1;
        }

        _steps.Clear();
        TotalTicks = 0;
        Broadcasts.Clear();
    }

    /// <summary>Serial exponentiations and ticks of the last event: the latest key establishment in <paramref name="component"/>.</summary>
    public (long Exps, long Ticks) SerialCost(IEnumerable<string> component) =>
        (component.Max(n => _members[n].KeyStamp.Exps), component.Max(n => _members[n].KeyStamp.Ticks));

    /// <summary>
    /// The steps on the longest causal chain (by CPU time) that ended in a key at one of <paramref name="component"/>,
    /// first to last: member, what it handled, and the CPU microseconds it spent (needs <see cref="TraceSteps"/>).
    /// </summary>
    public List<(string Member, string What, double Microseconds, long Exps)> CriticalPath(IEnumerable<string> component)
    {
        SimulatedMember last = component.Select(n => _members[n]).MaxBy(m => m.KeyStamp.Ticks)!;
        var path = new List<(string, string, double, long)>();
        for (int at = last.KeyStep; at >= 0; at = _steps[at].Previous)
        {
            TracedStep s = _steps[at];
            path.Add((s.Member, s.What, s.Nanoseconds / 1e3, s.Exps));
        }

        path.Reverse();
        return path;
    }

    // Header only (the type byte): parsing a 75 KB message per recipient would distort what is being measured.
    private static string Describe(Delivery d) => $"type {(d.Wire.Length > 2 ? d.Wire[2] : -1)} from {d.From}, {d.Wire.Length} B";

    private void Step(SimulatedMember member, long clock, long ticks, int fromStep, string what, Func<StepResult> action)
    {
        long start = Math.Max(member.SerialClock, clock);
        long startTicks = Math.Max(member.SerialTicks, ticks);
        int previous = member.SerialTicks >= ticks ? member.LastStep : fromStep;
        long before = member.Counter.TotalExponentiations;
        long t0 = ThreadCpuClock.NowNanoseconds();
        StepResult result = action();
        long elapsed = ThreadCpuClock.NowNanoseconds() - t0;
        TotalTicks += elapsed;
        if (result.Rejection != Rejection.None)
        {
            Rejections.Add((member.Name, result.Rejection));
            return;
        }

        member.SerialClock = start + (member.Counter.TotalExponentiations - before);
        member.SerialTicks = startTicks + elapsed;
        int step = -1;
        if (TraceSteps)
        {
            step = _steps.Count;
            _steps.Add(new TracedStep(member.Name, what, elapsed, member.Counter.TotalExponentiations - before, previous));
        }

        member.LastStep = step;
        foreach (KeyAgreementOutput output in result.Outputs)
        {
            long stamp = start + (output.CostStamp - before);
            switch (output)
            {
                case KeyEstablished key:
                    member.Keys.Add(key);
                    member.KeyStamp = (stamp, startTicks + elapsed);
                    member.KeyStep = step;
                    break;
                case SendMessage { To: null } broadcast:
                    Broadcasts.Add(broadcast.Wire);
                    ReleaseHeldUnicastsOf(member.Name);
                    _queue.Enqueue(new Delivery(member.Name, Components.First(c => c.Contains(member.Name)).ToArray(), broadcast.Wire, stamp, startTicks + elapsed, step));
                    break;
                case SendMessage unicast:
                    ReleaseHeldUnicastsOf(member.Name);
                    (HoldUnicasts || HoldUnicastsBehindOthers ? _heldUnicasts : _queue).Enqueue(new Delivery(member.Name, [unicast.To!], unicast.Wire, stamp, startTicks + elapsed, step));
                    break;
            }
        }

        if (Precompute && member.Module.TakePrecomputation() is KeyAgreementPrecomputation work && !PrecomputeNeverFinishes)
        {
            work.Run();
        }
    }

    /// <summary>With <see cref="HoldUnicastsBehindOthers"/>, a member's held unicasts go ahead of anything it sends next.</summary>
    private void ReleaseHeldUnicastsOf(string sender)
    {
        if (!HoldUnicastsBehindOthers || HoldUnicasts || !_heldUnicasts.Any(d => d.From == sender))
        {
            return;
        }

        Delivery[] held = [.. _heldUnicasts];
        _heldUnicasts.Clear();
        foreach (Delivery d in held)
        {
            (d.From == sender ? _queue : _heldUnicasts).Enqueue(d);
        }
    }

    public void Dispose()
    {
        foreach (SimulatedMember m in _members.Values)
        {
            m.Dispose();
        }
    }

    private readonly record struct Delivery(string From, string[] To, byte[] Wire, long Exps, long Ticks, int Step);

    private readonly record struct TracedStep(string Member, string What, long Nanoseconds, long Exps, int Previous);
}
