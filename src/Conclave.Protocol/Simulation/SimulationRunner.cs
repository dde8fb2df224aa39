using System.Diagnostics;
using Conclave.Protocol.Tracing;

namespace Conclave.Protocol.Simulation;

/// <summary>Outcome of one simulation run.</summary>
/// <param name="Seed">The run seed.</param>
/// <param name="Scenario">Scenario name.</param>
/// <param name="SimulatedUs">Simulated time covered.</param>
/// <param name="Delivered">Messages delivered, summed over daemons.</param>
/// <param name="Configurations">Configurations installed, summed over daemons.</param>
/// <param name="Violations">Property violations (empty when clean).</param>
/// <param name="ConvergenceUs">Simulated time from the heal to the last configuration install, or -1 if the run did not converge.</param>
/// <param name="Events">Simulator events processed.</param>
/// <param name="WallMs">Wall-clock milliseconds for the run and its check.</param>
public sealed record SimulationResult(ulong Seed, string Scenario, long SimulatedUs, long Delivered, long Configurations, IReadOnlyList<Violation> Violations, long ConvergenceUs, long Events, double WallMs)
{
    /// <summary>The trace, when the caller asked to keep it.</summary>
    public IReadOnlyList<TraceEvent>? Trace { get; init; }
}

/// <summary>Runs simulations and checks their traces.</summary>
public static class SimulationRunner
{
    /// <summary>Names of the scripted scenarios (ring-protocol.md §6.3), plus <c>random</c>.</summary>
    public static IReadOnlyList<string> ScenarioNames => [.. NamedScenarios.All.Select(s => s.Name).Prepend("random")];

    /// <summary>Runs <paramref name="scenario"/> (default: random faults) under <paramref name="config"/> and checks the trace.</summary>
    public static SimulationResult Run(SimulationConfig config, string scenario = "random", bool keepTrace = false)
    {
        ArgumentNullException.ThrowIfNull(config);
        ISimScenario s = scenario == "random" ? new RandomFaultScenario()
            : NamedScenarios.All.FirstOrDefault(x => x.Name == scenario) ?? throw new ArgumentException($"Unknown scenario '{scenario}'.", nameof(scenario));
        return Run(config, s, keepTrace);
    }

    internal static SimulationResult Run(SimulationConfig config, ISimScenario scenario, bool keepTrace)
    {
        var watch = Stopwatch.StartNew();
        var sim = new Simulator(config);
        GroupSimulation? groups = config.Groups ? new GroupSimulation(sim) : null;
        long end = scenario.Setup(sim);
        groups?.StartChurn(0, Math.Min(sim.LoadUntil, end));
        sim.Run(end);
        TraceChecker checker = groups is null ? new TraceChecker() : new TraceChecker().With(new GroupRules());
        var violations = new List<Violation>(checker.Check(sim.Trace));
        if (groups is not null) violations.AddRange(groups.Breaches);
        if (sim.HealTime >= 0)
        {
            // P12 also needs the live cores to be OPERATIONAL, which only the simulator can see.
            foreach (uint n in sim.NodeIds)
            {
                if (sim.Machine(n) is { State: not Ring.RingState.Operational } m)
                {
                    violations.Add(new Violation("P12", $"daemon {n} ends in {m.State}", sim.Now, [new ProcId(n, m.Incarnation)]));
                }
            }
            groups?.Check(violations);
        }
        long convergence = -1;
        if (sim.HealTime >= 0 && !violations.Any(v => v.Property == "P12"))
        {
            long lastConf = sim.Trace.Where(e => e.Kind == TraceKind.Conf).Select(e => e.TimeUs).DefaultIfEmpty(0).Max();
            convergence = Math.Max(0, lastConf - sim.HealTime);
        }
        return new SimulationResult(config.Seed, scenario.Name, sim.Now, sim.DeliveredCount, sim.ConfigurationCount, violations, convergence, sim.Events, watch.Elapsed.TotalMilliseconds)
        {
            Trace = keepTrace ? sim.Trace : null,
        };
    }
}
