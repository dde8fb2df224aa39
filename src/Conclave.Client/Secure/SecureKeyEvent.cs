namespace Conclave.Client.Secure;

/// <summary>Why a group key changed, as Secure Spread names it (the paper's Table 1).</summary>
/// <remarks>
/// join → <see cref="Join"/>; leave, disconnect and partition → <see cref="Leave"/>; merge → <see cref="Merge"/>;
/// a partition and a merge in one view → <see cref="Leave"/> then <see cref="Merge"/>; a key refresh → <see cref="Refresh"/>.
/// </remarks>
public enum SecureKeyEvent
{
    /// <summary>A member joined (or this member's first view).</summary>
    Join = 1,

    /// <summary>Members left, disconnected or were partitioned away.</summary>
    Leave,

    /// <summary>Members came in from another component.</summary>
    Merge,

    /// <summary>A new key for the same members, on request or on the refresh timer.</summary>
    Refresh,
}
