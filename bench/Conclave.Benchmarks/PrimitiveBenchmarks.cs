using BenchmarkDotNet.Attributes;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.Internal;

namespace Conclave.Benchmarks;

/// <summary>The public-key primitives the key agreement modules count, as the modules call them.</summary>
[ShortRunJob]
[MemoryDiagnoser]
public class PrimitiveBenchmarks
{
    private readonly OperationCounter _counter = new();
    private readonly DhGroup _ristretto = DhGroup.Ristretto255;
    private readonly DhGroup _modp2048 = DhGroup.Modp2048;
    private readonly DhGroup _modp512 = DhGroup.Modp512Paper;
    private byte[] _rElement = [];
    private byte[] _rScalar = [];
    private byte[] _m2048Element = [];
    private byte[] _m2048Short = [];
    private byte[] _m2048Full = [];
    private byte[] _m512Element = [];
    private byte[] _m512Full = [];
    private MemberIdentity _identity = null!;
    private byte[] _message = [];
    private byte[] _signature = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new SeededRandomSource(1);
        _rScalar = _ristretto.RandomScalar(random);
        _rElement = _ristretto.ExpBase(_ristretto.RandomScalar(random), _counter);
        _m2048Short = _modp2048.RandomScalar(random);
        _m2048Element = _modp2048.ExpBase(_m2048Short, _counter);
        _m2048Full = _modp2048.Invert(_m2048Short, _counter);
        _m512Full = _modp512.RandomScalar(random);
        _m512Element = _modp512.ExpBase(_m512Full, _counter);
        _identity = MemberIdentity.FromSeed(new byte[32]);
        _message = new byte[256];
        _signature = _identity.Sign(_message);
    }

    [GlobalCleanup]
    public void Cleanup() => _identity.Dispose();

    [Benchmark(Description = "ristretto255 scalarmult (variable base)")]
    public byte[] RistrettoExp() => _ristretto.Exp(_rElement, _rScalar, _counter);

    [Benchmark(Description = "ristretto255 scalarmult_base")]
    public byte[] RistrettoExpBase() => _ristretto.ExpBase(_rScalar, _counter);

    [Benchmark(Description = "ristretto255 scalar_invert")]
    public byte[] RistrettoInvert() => _ristretto.Invert(_rScalar, _counter);

    [Benchmark(Description = "ristretto255 is_valid_point")]
    public bool RistrettoValidate() => _ristretto.IsValidElement(_rElement, _counter);

    [Benchmark(Description = "MODP-2048 exp, 256-bit exponent")]
    public byte[] Modp2048ShortExp() => _modp2048.Exp(_m2048Element, _m2048Short, _counter);

    [Benchmark(Description = "MODP-2048 exp, full exponent")]
    public byte[] Modp2048FullExp() => _modp2048.Exp(_m2048Element, _m2048Full, _counter);

    [Benchmark(Description = "MODP-2048 inverse mod q")]
    public byte[] Modp2048Invert() => _modp2048.Invert(_m2048Short, _counter);

    [Benchmark(Description = "MODP-2048 subgroup check (y^q)")]
    public bool Modp2048Validate() => _modp2048.IsValidElement(_m2048Element, _counter);

    [Benchmark(Description = "512-bit group exp, 511-bit exponent")]
    public byte[] Modp512Exp() => _modp512.Exp(_m512Element, _m512Full, _counter);

    [Benchmark(Description = "Ed25519 sign 256 B")]
    public byte[] Sign() => _identity.Sign(_message);

    [Benchmark(Description = "Ed25519 verify 256 B")]
    public bool Verify() => MemberIdentity.Verify(_identity.PublicKey, _message, _signature);

    [Benchmark(Description = "HKDF epoch key + confirmation")]
    public byte[] DeriveKey() => KeySchedule.Derive(_rElement, _rScalar).Key;
}
