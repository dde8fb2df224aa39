namespace Conclave.Crypto;

/// <summary>
/// Counts the expensive public-key operations of one member's key agreement module.
/// </summary>
/// <remarks>
/// One instance per member (never a shared static) so that tests and benchmarks can run members in parallel
/// and read each member's own cost. Not thread-safe: a module is driven by one thread at a time.
/// </remarks>
public sealed class OperationCounter
{
    /// <summary>Variable-base exponentiations (scalar multiplications of a received or stored element).</summary>
    public long Exponentiations { get; internal set; }

    /// <summary>Fixed-base exponentiations (g^x).</summary>
    public long BaseExponentiations { get; internal set; }

    /// <summary>Scalar inversions modulo the group order.</summary>
    public long Inversions { get; internal set; }

    /// <summary>Group-membership checks of received elements (a full exponentiation in MODP groups).</summary>
    public long Validations { get; internal set; }

    /// <summary>Ed25519 signatures made.</summary>
    public long Signatures { get; internal set; }

    /// <summary>Ed25519 signatures verified.</summary>
    public long Verifications { get; internal set; }

    /// <summary>
    /// Exponentiations done ahead of a membership change, off its critical path (a GDH controller's next share), counted
    /// when the change takes them; not in <see cref="TotalExponentiations"/>, which counts each change's own work.
    /// </summary>
    public long PrecomputedExponentiations { get; internal set; }

    /// <summary>All exponentiations, the quantity the paper's Tables 2–4 count.</summary>
    public long TotalExponentiations => Exponentiations + BaseExponentiations;

    /// <summary>Sets every count back to zero.</summary>
    public void Reset()
    {
        Exponentiations = PrecomputedExponentiations = BaseExponentiations = Inversions = Validations = Signatures = Verifications = 0;
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"exp={Exponentiations} precomputed={PrecomputedExponentiations} base={BaseExponentiations} inv={Inversions} valid={Validations} sign={Signatures} verify={Verifications}";
}
