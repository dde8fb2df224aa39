using System.Security.Cryptography;

namespace Conclave.Crypto.KeyAgreement;

/// <summary>
/// Centralised key distribution (paper Appendix A): the controller (oldest member = first of the view) keeps a
/// pairwise key with every member from an authenticated two-party Diffie–Hellman (signed messages), and after every
/// membership change draws a fresh group secret g^s and sends it to each member "encrypted" as (g^s)^(K_i).
/// </summary>
/// <remarks>
/// Pairwise keys survive as long as both ends stay; a new controller (the old one left) runs the exchange with
/// everyone. The exponent encryption is the paper's (its Tables 2–4 count it as exponentiations).
/// Not contributory: the controller alone chooses the secret.
/// </remarks>
internal sealed class CkdModule : ModuleBase
{
    private const byte Hello = 1;
    private const byte Reply = 2;
    private const byte Distribution = 3;
    private const byte RefreshRequest = 4;

    // Controller side.
    private byte[]? _pairShare;
    private byte[]? _pairPublic;
    private readonly Dictionary<string, byte[]> _pairKeys = new(StringComparer.Ordinal);

    // Member side.
    private string? _controller;
    private byte[]? _pairKey;
    private byte[]? _pairKeyInverse;

    // The run in progress.
    private Phase _phase;
    private readonly HashSet<string> _awaitingReplies = new(StringComparer.Ordinal);
    private bool _helloAnswered;
    private byte[]? _pendingSecret;

    public CkdModule(KeyAgreementOptions options)
        : base(options)
    {
    }

    private enum Phase
    {
        Idle,
        CollectReplies,
        AwaitDistribution,
        AwaitOwnDistribution,
    }

    public override KeyAgreementProtocol Protocol => KeyAgreementProtocol.Ckd;

    internal override IEnumerable<byte[]> KnownScalars =>
        new[] { _pairShare, _pairKey, _pairKeyInverse }.OfType<byte[]>().Concat(_pairKeys.Values);

    internal override IEnumerable<byte[]> KnownElements => _pairPublic is null ? [] : [_pairPublic];

    protected override IEnumerable<byte[]> ElementsIn(Envelope envelope)
    {
        var reader = new PayloadReader(envelope.Payload);
        return envelope.Type switch
        {
            Hello or Reply when envelope.Payload.Length == Dh.ElementLength => [envelope.Payload],
            Distribution when reader.Names(out _) && reader.Elements(Dh.ElementLength, out List<byte[]> list) => list,
            _ => [],
        };
    }

    protected override void StartView(KeyAgreementView view)
    {
        string controller = view.Members[0];
        if (controller == Self)
        {
            if (_pairShare is null)
            {
                _pairShare = Dh.RandomScalar(Options.Random);
                _pairPublic = Dh.ExpBase(_pairShare, Counter);
                ErasePairKeys(_ => true);
            }

            // A member that did not come with us may have dropped its side of our pairwise key while it was away.
            ErasePairKeys(m => !CameAlong(m));
            EraseMemberSide();
            foreach (string m in view.Members.Skip(1).Where(m => !_pairKeys.ContainsKey(m)))
            {
                _awaitingReplies.Add(m);
                Unicast(m, Hello, _pairPublic!);
            }

            _phase = Phase.CollectReplies;
            if (_awaitingReplies.Count == 0)
            {
                Distribute();
            }

            return;
        }

        EraseControllerSide();
        if (_controller != controller || !CameAlong(controller))
        {
            EraseMemberSide();
            _controller = controller;
        }

        _phase = Phase.AwaitDistribution;
    }

    protected override Rejection Handle(Envelope envelope) => envelope.Type switch
    {
        Hello when envelope.Recipient is not null => OnHello(envelope),
        Reply when envelope.Recipient is not null => OnReply(envelope),
        Distribution when envelope.Recipient is null => OnDistribution(envelope),
        RefreshRequest when envelope.Recipient is null => OnRefreshRequest(envelope),
        _ => Rejection.Unexpected,
    };

    protected override bool StartsNextRun(Envelope envelope) =>
        envelope.Type == Distribution && envelope.Recipient is null && envelope.Sender == _controller && envelope.Sender != Self;

    protected override void Refresh()
    {
        if (View!.Members[0] == Self)
        {
            BeginOwnNextRun();
            Distribute();
        }
        else
        {
            Broadcast(RefreshRequest, []);
        }
    }

    private Rejection OnHello(Envelope envelope)
    {
        if (_phase != Phase.AwaitDistribution || envelope.Sender != _controller || _helloAnswered)
        {
            return Rejection.Unexpected;
        }

        if (envelope.Payload.Length != Dh.ElementLength)
        {
            return Rejection.Invalid;
        }

        byte[] share = Dh.RandomScalar(Options.Random);
        try
        {
            byte[] shared = ExpReceived(envelope.Payload, share);
            byte[] mine = Dh.ExpBase(share, Counter);
            Accept(envelope);
            byte[] key = PairKey(envelope.Sender, Self, envelope.Payload, mine, shared);
            Erase(shared);
            EraseMemberSide();
            _pairKey = key;
            _helloAnswered = true;
            Unicast(envelope.Sender, Reply, mine);
            return Rejection.None;
        }
        finally
        {
            Erase(share);
        }
    }

    private Rejection OnReply(Envelope envelope)
    {
        if (_phase != Phase.CollectReplies || !_awaitingReplies.Contains(envelope.Sender))
        {
            return Rejection.Unexpected;
        }

        if (envelope.Payload.Length != Dh.ElementLength)
        {
            return Rejection.Invalid;
        }

        byte[] shared = ExpReceived(envelope.Payload, _pairShare!);
        Accept(envelope);
        _pairKeys[envelope.Sender] = PairKey(Self, envelope.Sender, _pairPublic!, envelope.Payload, shared);
        Erase(shared);
        _awaitingReplies.Remove(envelope.Sender);
        if (_awaitingReplies.Count == 0)
        {
            Distribute();
        }

        return Rejection.None;
    }

    private Rejection OnDistribution(Envelope envelope)
    {
        if (envelope.Sender == Self)
        {
            if (_phase != Phase.AwaitOwnDistribution)
            {
                return Rejection.Unexpected;
            }

            Accept(envelope);
            byte[] secret = _pendingSecret!;
            _pendingSecret = null;
            _phase = Phase.Idle;
            Finish(secret);
            return Rejection.None;
        }

        if ((!OpensNextRun && _phase != Phase.AwaitDistribution) || envelope.Sender != _controller)
        {
            return Rejection.Unexpected;
        }

        var reader = new PayloadReader(envelope.Payload);
        if (!reader.Names(out List<string> names) || !reader.Elements(Dh.ElementLength, out List<byte[]> sealedSecrets) || !reader.AtEnd
            || names.Count != sealedSecrets.Count || !names.SequenceEqual(View!.Members.Skip(1)) || _pairKey is null)
        {
            return Rejection.Invalid;
        }

        byte[] inverse = _pairKeyInverse ?? Dh.Invert(_pairKey, Counter);
        byte[] secretElement;
        try
        {
            secretElement = ExpReceived(sealedSecrets[names.IndexOf(Self)], inverse);
        }
        catch (CryptographicException)
        {
            if (!ReferenceEquals(inverse, _pairKeyInverse))
            {
                Erase(inverse);
            }

            throw;
        }

        Accept(envelope);
        _pairKeyInverse = inverse;
        _phase = Phase.Idle;
        Finish(secretElement);
        return Rejection.None;
    }

    private Rejection OnRefreshRequest(Envelope envelope)
    {
        if (!IsSettled || envelope.Payload.Length != 0)
        {
            return IsSettled ? Rejection.Invalid : Rejection.Unexpected;
        }

        Accept(envelope);
        if (View!.Members[0] == Self)
        {
            BeginOwnNextRun();
            Distribute();
        }

        return Rejection.None;
    }

    /// <summary>A fresh group secret g^s, sent to each member as (g^s)^(K_i).</summary>
    private void Distribute()
    {
        byte[] s = Dh.RandomScalar(Options.Random);
        byte[] secret = Dh.ExpBase(s, Counter);
        Erase(s);
        List<string> names = View!.Members.Skip(1).ToList();
        var sealedSecrets = names.Select(m => Dh.Exp(secret, _pairKeys[m], Counter)).ToList();
        _pendingSecret = secret;
        _phase = Phase.AwaitOwnDistribution;
        Broadcast(Distribution, new PayloadWriter().Names(names).Elements(sealedSecrets).ToArray());
    }

    /// <summary>K = H(controller ‖ member ‖ g^a ‖ g^b ‖ g^ab) mapped to a scalar: bound to both names and both messages.</summary>
    private byte[] PairKey(string controller, string member, byte[] controllerPublic, byte[] memberPublic, byte[] shared)
    {
        byte[] context = new PayloadWriter().Names([controller, member]).Bytes(controllerPublic).Bytes(memberPublic).Bytes(shared).ToArray();
        byte[] key = KeySchedule.ElementToScalar(Dh, "conclave ckd pairwise v1", context);
        Erase(context);
        return key;
    }

    private void ErasePairKeys(Func<string, bool> which)
    {
        foreach (string m in _pairKeys.Keys.Where(which).ToList())
        {
            Erase(_pairKeys[m]);
            _pairKeys.Remove(m);
        }
    }

    private void EraseControllerSide()
    {
        Erase(_pairShare);
        _pairShare = null;
        _pairPublic = null;
        ErasePairKeys(_ => true);
    }

    private void EraseMemberSide()
    {
        Erase(_pairKey);
        Erase(_pairKeyInverse);
        _pairKey = null;
        _pairKeyInverse = null;
    }

    protected override void AbandonRun()
    {
        Erase(_pendingSecret);
        _pendingSecret = null;
        _awaitingReplies.Clear();
        _helloAnswered = false;
        _phase = Phase.Idle;
    }

    protected override void EraseAll()
    {
        EraseControllerSide();
        EraseMemberSide();
    }

    protected override void DescribeState(IncrementalHash hash)
    {
        WriteState(hash, _phase.ToString());
        WriteState(hash, _controller ?? "-");
        WriteState(hash, _pairShare);
        WriteState(hash, _pairKey);
        WriteState(hash, _pairKeyInverse);
        WriteState(hash, _pendingSecret);
        WriteState(hash, _helloAnswered ? "hello" : "-");
        WriteState(hash, string.Join(",", _awaitingReplies.Order(StringComparer.Ordinal)));
        foreach ((string m, byte[] k) in _pairKeys.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            WriteState(hash, m);
            WriteState(hash, k);
        }

    }
}
