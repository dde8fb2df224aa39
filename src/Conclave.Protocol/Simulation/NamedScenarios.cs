namespace Conclave.Protocol.Simulation;

/// <summary>The named regression scenarios of ring-protocol.md §6.3.</summary>
internal static class NamedScenarios
{
    public static IReadOnlyList<ISimScenario> All { get; } = [];
}
