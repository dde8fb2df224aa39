namespace Conclave.Protocol.Tracing;

/// <summary>
/// Checks a trace against the EVS rules and any added rule (the group invariants, later).
/// Deterministic: every iteration that reports is over sorted or insertion-ordered collections.
/// </summary>
public sealed class TraceChecker
{
    private readonly List<ITraceRule> _rules = [new EvsRules()];

    /// <summary>Adds a rule, e.g. the group-layer invariants G-P1..G-P7.</summary>
    public TraceChecker With(ITraceRule rule)
    {
        _rules.Add(rule);
        return this;
    }

    /// <summary>Checks <paramref name="trace"/>; returns every violation found (empty when clean).</summary>
    public IReadOnlyList<Violation> Check(IReadOnlyList<TraceEvent> trace)
    {
        var index = new TraceIndex(trace);
        var violations = new List<Violation>();
        foreach (ITraceRule rule in _rules) rule.Check(index, violations);
        return violations;
    }
}
