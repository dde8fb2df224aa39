namespace Conclave.Protocol.Simulation;

/// <summary>Campaign options shared by <c>conclave sim</c> and the test campaign.</summary>
/// <param name="Daemons">Daemons per run, or 0 to draw 3–7 from the seed.</param>
/// <param name="MaxLoss">Upper bound of the per-run base loss, drawn uniformly from the seed.</param>
/// <param name="Faults">Fault classes.</param>
public sealed record CampaignOptions(int Daemons = 0, double MaxLoss = 0.2, FaultKinds Faults = FaultKinds.All)
{
    /// <summary>The run configuration of <paramref name="seed"/>; the same seed and options give the same run.</summary>
    public SimulationConfig ConfigFor(ulong seed)
    {
        var rng = new SimRandom(seed, 99);
        int drawn = 3 + rng.Next(5);
        int daemons = Daemons > 0 ? Daemons : drawn;
        double loss = MaxLoss * rng.NextDouble();
        return new SimulationConfig { Seed = seed, Daemons = daemons, Loss = loss, Faults = Faults };
    }

    /// <summary>Parses a comma-separated fault list (partitions, crashes, restarts, oneway, pauses, loss, all, none).</summary>
    public static FaultKinds ParseFaults(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        FaultKinds f = FaultKinds.None;
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            f |= part.ToUpperInvariant() switch
            {
                "ALL" => FaultKinds.All,
                "NONE" => FaultKinds.None,
                "PARTITIONS" => FaultKinds.Partitions,
                "CRASHES" => FaultKinds.Crashes,
                "RESTARTS" => FaultKinds.Restarts,
                "ONEWAY" => FaultKinds.OneWay,
                "PAUSES" => FaultKinds.Pauses,
                "LOSS" => FaultKinds.LossBursts,
                _ => throw new ArgumentException($"Unknown fault kind '{part}'.", nameof(text)),
            };
        }
        return f;
    }

    /// <summary>Formats fault kinds the way <see cref="ParseFaults"/> reads them.</summary>
    public static string FormatFaults(FaultKinds f)
    {
        if (f == FaultKinds.All) return "all";
        if (f == FaultKinds.None) return "none";
        var parts = new List<string>();
        if ((f & FaultKinds.Partitions) != 0) parts.Add("partitions");
        if ((f & FaultKinds.Crashes) != 0) parts.Add("crashes");
        if ((f & FaultKinds.Restarts) != 0) parts.Add("restarts");
        if ((f & FaultKinds.OneWay) != 0) parts.Add("oneway");
        if ((f & FaultKinds.Pauses) != 0) parts.Add("pauses");
        if ((f & FaultKinds.LossBursts) != 0) parts.Add("loss");
        return string.Join(',', parts);
    }
}
