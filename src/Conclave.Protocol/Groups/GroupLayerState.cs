namespace Conclave.Protocol.Groups;

/// <summary>The group layer's state with respect to daemon configuration changes (ring-protocol.md §5.2).</summary>
public enum GroupLayerState
{
    /// <summary>Operational: a regular configuration is installed and its state exchange is complete.</summary>
    Operational,
    /// <summary>In a transitional configuration, before the next regular one.</summary>
    Transitional,
    /// <summary>Collecting group-state messages after a merge.</summary>
    Gathering,
    /// <summary>Collecting, and a further transitional configuration arrived.</summary>
    GatheringTransitional,
}
