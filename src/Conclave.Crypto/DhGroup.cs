using Conclave.Crypto.Internal;

namespace Conclave.Crypto;

/// <summary>
/// A cyclic group of known prime order in which the key agreement modules compute: ristretto255 (the default)
/// or the prime-order subgroup of a safe-prime MODP group.
/// </summary>
/// <remarks>
/// Prime order is what makes exponent inverses (Cliques' "factor out" and share updates) well defined.
/// Elements and scalars travel as fixed-length byte strings; every operation reports its cost to the
/// caller's <see cref="OperationCounter"/>.
/// </remarks>
public abstract class DhGroup
{
    private protected DhGroup()
    {
    }

    /// <summary>ristretto255 (RFC 9496) through libsodium: 128-bit security, the default.</summary>
    public static DhGroup Ristretto255 => Ristretto255Group.Instance;

    /// <summary>RFC 3526 group 14 (2048-bit MODP), prime-order subgroup, 256-bit fresh shares.</summary>
    public static DhGroup Modp2048 => ModpGroup.Group14;

    /// <summary>RFC 3526 group 15 (3072-bit MODP), prime-order subgroup, 256-bit fresh shares.</summary>
    public static DhGroup Modp3072 => ModpGroup.Group15;

    /// <summary>A 512-bit safe-prime group, only to reproduce the paper's 2000-era numbers. Not secure.</summary>
    public static DhGroup Modp512Paper => ModpGroup.Paper512;

    /// <summary>The groups by name, for configuration and command lines.</summary>
    public static IReadOnlyList<DhGroup> All { get; } = [Ristretto255, Modp2048, Modp3072, Modp512Paper];

    /// <summary>The group's name: <c>ristretto255</c>, <c>modp2048</c>, <c>modp3072</c> or <c>modp512</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Length in bytes of an encoded element.</summary>
    public abstract int ElementLength { get; }

    /// <summary>Length in bytes of an encoded scalar (exponent).</summary>
    public abstract int ScalarLength { get; }

    /// <summary>Finds a group by <see cref="Name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No group has that name.</exception>
    public static DhGroup FromName(string name)
    {
        foreach (DhGroup group in All)
        {
            if (string.Equals(group.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return group;
            }
        }

        throw new ArgumentException($"Unknown DH group '{name}'; known: {string.Join(", ", All.Select(g => g.Name))}.", nameof(name));
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>The generator g, encoded.</summary>
    internal abstract byte[] Generator { get; }

    /// <summary>A fresh secret share, non-zero and reduced (MODP: a short 256-bit exponent).</summary>
    internal abstract byte[] RandomScalar(IRandomSource random);

    /// <summary>Maps 64 uniform bytes to a scalar modulo the group order (non-zero).</summary>
    internal abstract byte[] ScalarFromWide(ReadOnlySpan<byte> wide);

    /// <summary>element^scalar for an element already known to be valid; throws if the result is the identity.</summary>
    internal abstract byte[] Exp(ReadOnlySpan<byte> element, ReadOnlySpan<byte> scalar, OperationCounter counter);

    /// <summary>g^scalar.</summary>
    internal abstract byte[] ExpBase(ReadOnlySpan<byte> scalar, OperationCounter counter);

    /// <summary>scalar^-1 modulo the group order.</summary>
    internal abstract byte[] Invert(ReadOnlySpan<byte> scalar, OperationCounter counter);

    /// <summary>a·b modulo the group order.</summary>
    internal abstract byte[] Multiply(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b);

    /// <summary>True if the bytes encode an element of the prime-order group other than the identity.</summary>
    internal abstract bool IsValidElement(ReadOnlySpan<byte> element, OperationCounter counter);

    /// <summary>True if <see cref="Exp"/> itself rejects invalid inputs (ristretto255 decoding), so no separate check is needed.</summary>
    internal abstract bool ExpValidatesInput { get; }

    /// <summary>True if the bytes encode a reduced, non-zero scalar.</summary>
    internal abstract bool IsValidScalar(ReadOnlySpan<byte> scalar);
}
