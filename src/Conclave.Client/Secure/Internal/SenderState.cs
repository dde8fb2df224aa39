namespace Conclave.Client.Secure.Internal;

/// <summary>What a secure group keeps of one sender within a view: found with one lookup per message opened.</summary>
internal sealed class SenderState
{
    /// <summary>Gets or sets the highest sequence number opened from the sender (a lower or equal one is a replay); -1 before the first.</summary>
    public long LastSequence { get; set; } = -1;

    /// <summary>Gets or sets the newest key generation of the view the sender has sealed under (0 = the view's first key): it never seals under an older one again.</summary>
    public int NewestGeneration { get; set; }
}
