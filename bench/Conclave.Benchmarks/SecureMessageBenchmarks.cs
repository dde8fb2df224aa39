using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Conclave.Client.Flush;
using Conclave.Client.Secure;
using Conclave.Client.Secure.Internal;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Conclave.Protocol.Spread;

namespace Conclave.Benchmarks;

/// <summary>
/// The secure layer's per-message cost: one member seals a 1 KB message under the epoch key, another opens it
/// (header and associated data, AEAD, replay check, delivery), through <see cref="SecureGroupCore"/> as
/// SecureConnection drives it. Two members keyed by a GDH run in the set-up.
/// </summary>
[Config(typeof(InProcessShortRun))]
[MemoryDiagnoser]
public class SecureMessageBenchmarks
{
    private const string Group = "bench";
    private const string Sender = "#a#d1";
    private const string Receiver = "#b#d2";
    private readonly MemberDirectory _directory = new();
    private readonly List<MemberIdentity> _identities = [];
    private SecureGroupCore _sender = null!;
    private SecureGroupCore _receiver = null!;
    private byte[] _plaintext = [];
    private byte[] _ciphertext = [];
    private byte[] _sealed = [];
    private readonly byte[] _nonce = new byte[12];
    private readonly byte[] _tag = new byte[16];
    private System.Security.Cryptography.AesGcm _aes = null!;
    private SodiumAead _sodium = null!;

    [Params(1024)]
    public int Size { get; set; }

    [Params(SecureAead.Aes256Gcm, SecureAead.ChaCha20Poly1305)]
    public SecureAead Aead { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _sender = NewCore(Sender);
        _receiver = NewCore(Receiver);
        var view = new FlushView(Group, [Sender, Receiver], new GroupId(1, 1, 1), Client.MembershipCause.Join, [Sender, Receiver], 0);
        _sender.Handle(view);
        _receiver.Handle(view);
        var bus = new Queue<(string From, byte[] Wire)>();
        while (true)
        {
            foreach ((string name, SecureGroupCore core) in new[] { (Sender, _sender), (Receiver, _receiver) })
            {
                while (core.Sends.TryDequeue(out KeyAgreementSend send))
                {
                    bus.Enqueue((name, send.Wire));
                }
            }

            if (!bus.TryDequeue(out (string From, byte[] Wire) next))
            {
                break;
            }

            _sender.OnKeyAgreement(next.From, next.Wire);
            _receiver.OnKeyAgreement(next.From, next.Wire);
        }

        if (!_sender.HasKey || !_receiver.HasKey)
        {
            throw new InvalidOperationException("key agreement did not finish");
        }

        _sender.Deliveries.Clear();
        _receiver.Deliveries.Clear();
        _plaintext = new byte[Size];
        new Random(1).NextBytes(_plaintext);
        _ciphertext = new byte[Size];
        _sealed = new byte[_sender.SealedLength(Size)];
        _aes = new System.Security.Cryptography.AesGcm(new byte[32], 16);
        _sodium = SodiumAead.Aes256Gcm(new byte[32]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sender.Dispose();
        _receiver.Dispose();
        _aes.Dispose();
        _sodium.Dispose();
        foreach (MemberIdentity identity in _identities)
        {
            identity.Dispose();
        }
    }

    [Benchmark(Description = "AES-256-GCM encrypt 1 KB alone (System.Security.Cryptography)")]
    public byte[] AeadAlone()
    {
        _aes.Encrypt(_nonce, _plaintext, _ciphertext, _tag);
        return _ciphertext;
    }

    [Benchmark(Description = "AES-256-GCM encrypt 1 KB alone (libsodium, precomputed key)")]
    public byte[] SodiumAeadAlone()
    {
        _sodium.Encrypt(_nonce, _plaintext, _ciphertext, _tag, default);
        return _ciphertext;
    }

    [Benchmark(Description = "seal 1 KB (new array)")]
    public byte[] Seal() => _sender.Seal(7, _plaintext)!;

    [Benchmark(Description = "seal 1 KB into the send buffer (as SendAsync does)")]
    public bool SealInto() => _sender.TrySeal(7, _plaintext, _sealed);

    [Benchmark(Description = "seal + open 1 KB (as SendAsync and ReceiveAsync do)")]
    public int SealAndOpen()
    {
        _sender.TrySeal(7, _plaintext, _sealed);

        // The Flush layer hands the sealed body over in the received frame, without a copy.
        _receiver.Handle(new FlushDataMessage(Group, Sender, ServiceType.Agreed, SecureGroupCore.SealedType, null, false, _sealed));
        return _receiver.Deliveries.Dequeue() is SecureMessage m ? m.Body.Length : throw new InvalidOperationException("not opened");
    }

    private SecureGroupCore NewCore(string name)
    {
        var identity = MemberIdentity.FromSeed(Enumerable.Repeat((byte)name[1], 32).ToArray());
        _identities.Add(identity);
        _directory.Add(name, identity.PublicKey);
        IGroupKeyAgreement module = KeyAgreementFactory.Create(KeyAgreementProtocol.Gdh, new KeyAgreementOptions { Group = Group, Self = name, Identity = identity, Directory = _directory });
        return new SecureGroupCore(module, Group, name, new SecureGroupOptions { Protocol = KeyAgreementProtocol.Gdh, Identity = identity, Directory = _directory, Aead = Aead });
    }
}

/// <summary>A short run in the benchmark's own process: on a busy shared machine a generated project may not even build within BenchmarkDotNet's timeout.</summary>
public sealed class InProcessShortRun : ManualConfig
{
    public InProcessShortRun() => AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
}
