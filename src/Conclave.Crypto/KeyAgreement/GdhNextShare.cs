using System.Security.Cryptography;

namespace Conclave.Crypto.KeyAgreement;

/// <summary>
/// A GDH controller's next share, prepared between changes: every other member's partial key with the committed share
/// swapped for the new one, and the cardinal value (the controller's own partial key raised to the new share). A join's
/// hand-off, a leave's re-key and a merge's first token then need no exponentiation on the change's critical path
/// (n − 1 of them at n members: the longest step of a join chain before the joiner's).
/// </summary>
/// <remarks>
/// The new share and the ratio are drawn and computed on the module's thread when the work is handed out; <see cref="Compute"/>
/// reads only this object's copies. Used at most once, then erased by whoever holds it.
/// </remarks>
internal sealed class GdhNextShare : KeyAgreementPrecomputation
{
    private readonly DhGroup _dh;
    private readonly byte[] _ratio;
    private readonly (string Member, byte[] Partial)[] _others;
    private readonly byte[] _ownPartial;
    private readonly Dictionary<string, byte[]> _updated = new(StringComparer.Ordinal);
    private byte[]? _cardinal;
    private bool _invalidElement;

    /// <param name="dh">The group.</param>
    /// <param name="basedOn">The committed share the partial keys hold (compared by reference when the result is used).</param>
    /// <param name="share">The new share (owned from now on).</param>
    /// <param name="ratio">New share × committed share⁻¹ (owned from now on).</param>
    /// <param name="others">Every other member's partial key, as committed.</param>
    /// <param name="ownPartial">The controller's own partial key (it lacks the controller's share).</param>
    public GdhNextShare(DhGroup dh, byte[] basedOn, byte[] share, byte[] ratio, (string Member, byte[] Partial)[] others, byte[] ownPartial)
    {
        _dh = dh;
        BasedOn = basedOn;
        Share = share;
        _ratio = ratio;
        _others = others;
        _ownPartial = ownPartial;
    }

    /// <summary>Gets the committed share this was prepared for.</summary>
    public byte[] BasedOn { get; }

    /// <summary>Gets the new share.</summary>
    public byte[] Share { get; }

    /// <summary>Gets the exponentiations and validations the work did (counted by the module when it takes the result).</summary>
    public OperationCounter Counter { get; } = new();

    /// <summary>Gets the cardinal value: the controller's own partial key raised to <see cref="Share"/>.</summary>
    public byte[] Cardinal => _cardinal ?? throw new InvalidOperationException("Not computed.");

    /// <summary>True if the work finished, every element was valid, and it covers every member of <paramref name="others"/>.</summary>
    public bool Covers(IEnumerable<string> others) => IsFinished && !Failed && !_invalidElement && others.All(_updated.ContainsKey);

    /// <summary>The ratio the partial keys were raised to (tests).</summary>
    internal byte[] Ratio => _ratio;

    /// <summary>A member's partial key with the new share in place of the committed one.</summary>
    public byte[] Updated(string member) => _updated[member];

    /// <summary>
    /// Zeroes the secrets (an unused share must never reach a message later), and the cardinal value if computed: it
    /// would have been the group element of a run with this share.
    /// </summary>
    public void Erase()
    {
        CryptographicOperations.ZeroMemory(Share);
        CryptographicOperations.ZeroMemory(_ratio);
        if (IsFinished && _cardinal is not null)
        {
            CryptographicOperations.ZeroMemory(_cardinal);
        }
    }

    /// <summary>
    /// Zeroes what a run that took the share keeps no use for: the ratio (with it and the old group element, or the
    /// cardinal value, one element gives the other), and the cardinal value unless it goes into a message (for a leave
    /// or refresh it is the controller's new group element itself).
    /// </summary>
    public void EraseAfterUse(bool keepCardinal)
    {
        CryptographicOperations.ZeroMemory(_ratio);
        if (!keepCardinal && _cardinal is not null)
        {
            CryptographicOperations.ZeroMemory(_cardinal);
        }
    }

    protected override void Compute()
    {
        try
        {
            foreach ((string member, byte[] partial) in _others)
            {
                if (!_dh.ExpValidatesInput && !_dh.IsValidElement(partial, Counter))
                {
                    _invalidElement = true;
                    return;
                }

                _updated[member] = _dh.Exp(partial, _ratio, Counter);
            }

            _cardinal = _dh.Exp(_ownPartial, Share, Counter);
        }
        catch (CryptographicException)
        {
            // A stored element that is not in the group: the change computes on the module's thread and refuses it there.
            _invalidElement = true;
        }
    }
}
