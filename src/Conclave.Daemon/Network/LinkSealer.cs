using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Conclave.Daemon.Network;

/// <summary>
/// Seals and opens daemon-to-daemon packets (docs/daemon-link.md): AES-256-GCM under a per-sender key
/// derived from the cluster key, with replay protection. Anything that fails is dropped and counted.
/// </summary>
/// <remarks>
/// <code>
///  off size sealed packet (format 1)           plaintext packet (format 0, only if configured)
///    0    1 format = 1                          format = 0
///    1    4 cluster key id                      sender node id (4), then the payload
///    5    4 sender node id
///    9    8 sender incarnation
///   17    8 packet counter
///   25    … ciphertext of the payload
///  end   16 GCM tag; the 25 header bytes are the associated data
/// </code>
/// The sender's key is HKDF-SHA256(cluster key, info = "conclave daemon link v1" ‖ node ‖ incarnation),
/// and the nonce is 4 zero bytes ‖ counter: a (key, nonce) pair is never reused while incarnations
/// grow across restarts and counters within one.
/// </remarks>
public sealed class LinkSealer : IDisposable
{
    /// <summary>Bytes a sealed packet adds to its payload.</summary>
    public const int Overhead = HeaderSize + TagSize;

    private const byte SealedFormat = 1;
    private const byte PlainFormat = 0;
    private const int HeaderSize = 25;
    private const int TagSize = 16;
    private const int NonceSize = 12;
    private const int PlainHeaderSize = 5;
    private static readonly byte[] KdfLabel = Encoding.ASCII.GetBytes("conclave daemon link v1");

    private readonly ClusterKey? _key;
    private readonly uint _node;
    private readonly ulong _incarnation;
    private readonly AesGcm? _sendCipher;
    private readonly Dictionary<(uint Node, ulong Incarnation), AesGcm> _receiveCiphers = [];
    private readonly Dictionary<uint, ReplayWindow> _windows = [];
    private readonly Lock _sendLock = new();
    private readonly Lock _receiveLock = new();
    private ulong _counter;

    /// <summary>Creates the sealer of daemon <paramref name="node"/> in boot <paramref name="incarnation"/>.</summary>
    /// <param name="key">The cluster key, or null for plaintext links (only when the configuration says so).</param>
    /// <param name="node">This daemon's node id.</param>
    /// <param name="incarnation">Grows with every restart (e.g. the ring's persisted incarnation or boot time).</param>
    public LinkSealer(ClusterKey? key, uint node, ulong incarnation)
    {
        _key = key;
        _node = node;
        _incarnation = incarnation;
        _sendCipher = key is null ? null : new AesGcm(DeriveKey(key, node, incarnation), TagSize);
    }

    /// <summary>True when packets are sealed.</summary>
    public bool IsSealed => _key is not null;

    /// <summary>What was sealed, opened and dropped.</summary>
    public LinkCounters Counters { get; } = new();

    /// <summary>Bytes a packet adds to its payload with this sealer (sealed or plaintext).</summary>
    public int PacketOverhead => _sendCipher is null ? PlainHeaderSize : Overhead;

    /// <summary>Seals a payload into a new packet.</summary>
    public byte[] Seal(ReadOnlySpan<byte> payload)
    {
        byte[] packet = GC.AllocateUninitializedArray<byte>(payload.Length + PacketOverhead); // Seal writes every byte
        Seal(payload, packet);
        return packet;
    }

    /// <summary>
    /// Seals a payload into <paramref name="packet"/> (at least <see cref="PacketOverhead"/> bytes longer than the
    /// payload; the two must not overlap) and returns the packet's length: the send path reuses one buffer.
    /// </summary>
    public int Seal(ReadOnlySpan<byte> payload, Span<byte> packet)
    {
        int length = payload.Length + PacketOverhead;
        ArgumentOutOfRangeException.ThrowIfLessThan(packet.Length, length, nameof(packet));
        if (_sendCipher is null)
        {
            packet[0] = PlainFormat;
            BinaryPrimitives.WriteUInt32LittleEndian(packet[1..], _node);
            payload.CopyTo(packet[PlainHeaderSize..]);
            return length;
        }

        lock (_sendLock)
        {
            ulong counter = ++_counter;
            packet[0] = SealedFormat;
            BinaryPrimitives.WriteUInt32LittleEndian(packet[1..], _key!.KeyId);
            BinaryPrimitives.WriteUInt32LittleEndian(packet[5..], _node);
            BinaryPrimitives.WriteUInt64LittleEndian(packet[9..], _incarnation);
            BinaryPrimitives.WriteUInt64LittleEndian(packet[17..], counter);
            Span<byte> nonce = stackalloc byte[NonceSize];
            WriteNonce(nonce, counter);
            _sendCipher.Encrypt(nonce, payload, packet.Slice(HeaderSize, payload.Length), packet.Slice(HeaderSize + payload.Length, TagSize), packet[..HeaderSize]);
        }

        Interlocked.Increment(ref Counters.Sealed);
        return length;
    }

    /// <summary>Opens a received packet; false (and counted) for anything not authentic, fresh and of this cluster.</summary>
    public bool TryOpen(ReadOnlySpan<byte> packet, out uint sender, out byte[] payload)
    {
        byte[] plain = GC.AllocateUninitializedArray<byte>(Math.Max(0, packet.Length - HeaderSize - TagSize)); // exactly a sealed payload's size
        if (!TryOpenInto(packet, plain, out sender, out _, out bool plaintextLink))
        {
            payload = [];
            return false;
        }

        payload = plaintextLink ? packet[PlainHeaderSize..].ToArray() : plain;
        return true;
    }

    /// <summary>
    /// Opens the first <paramref name="length"/> bytes of <paramref name="packet"/>; false (and counted) for anything
    /// not authentic, fresh and of this cluster. The payload is decrypted into <paramref name="plainBuffer"/> (at least
    /// as long as the packet; the receive path reuses one), or, on plaintext links, is the packet's own bytes.
    /// </summary>
    public bool TryOpen(byte[] packet, int length, byte[] plainBuffer, out uint sender, out ArraySegment<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ArgumentNullException.ThrowIfNull(plainBuffer);
        sender = 0;
        payload = ArraySegment<byte>.Empty;
        ReadOnlySpan<byte> received = packet.AsSpan(0, length);
        if (!TryOpenInto(received, plainBuffer, out sender, out int plainLength, out bool inPlace))
        {
            return false;
        }

        payload = inPlace ? new ArraySegment<byte>(packet, PlainHeaderSize, length - PlainHeaderSize) : new ArraySegment<byte>(plainBuffer, 0, plainLength);
        return true;
    }

    private bool TryOpenInto(ReadOnlySpan<byte> packet, Span<byte> plainBuffer, out uint sender, out int plainLength, out bool plaintextLink)
    {
        sender = 0;
        plainLength = 0;
        plaintextLink = false;
        if (packet.Length < PlainHeaderSize)
        {
            Interlocked.Increment(ref Counters.Malformed);
            return false;
        }

        if (packet[0] == PlainFormat)
        {
            if (_key is not null)
            {
                Interlocked.Increment(ref Counters.Unsealed);
                return false;
            }

            sender = BinaryPrimitives.ReadUInt32LittleEndian(packet[1..]);
            plaintextLink = true;
            return true;
        }

        if (packet[0] != SealedFormat || packet.Length < HeaderSize + TagSize || _key is null)
        {
            Interlocked.Increment(ref Counters.Malformed);
            return false;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(packet[1..]) != _key.KeyId)
        {
            Interlocked.Increment(ref Counters.OtherCluster);
            return false;
        }

        sender = BinaryPrimitives.ReadUInt32LittleEndian(packet[5..]);
        ulong incarnation = BinaryPrimitives.ReadUInt64LittleEndian(packet[9..]);
        ulong counter = BinaryPrimitives.ReadUInt64LittleEndian(packet[17..]);
        lock (_receiveLock)
        {
            ReplayWindow window = WindowOf(sender);
            if (!window.IsFresh(incarnation, counter))
            {
                Interlocked.Increment(ref Counters.Replayed);
                return false;
            }

            plainLength = packet.Length - HeaderSize - TagSize;
            Span<byte> plain = plainBuffer[..plainLength];
            bool known = _receiveCiphers.TryGetValue((sender, incarnation), out AesGcm? cipher);

            // A claimed new incarnation gets a trial cipher: the sender's current one is replaced only
            // once a packet under the new key authenticates, so forgeries cannot churn it.
            cipher ??= new AesGcm(DeriveKey(_key, sender, incarnation), TagSize);
            try
            {
                Span<byte> nonce = stackalloc byte[NonceSize];
                WriteNonce(nonce, counter);
                cipher.Decrypt(nonce, packet[HeaderSize..^TagSize], packet[^TagSize..], plain, packet[..HeaderSize]);
            }
            catch (AuthenticationTagMismatchException)
            {
                if (!known)
                {
                    cipher.Dispose();
                }

                Interlocked.Increment(ref Counters.Forged);
                return false;
            }

            if (!known)
            {
                Adopt(sender, incarnation, cipher);
            }

            window.Accept(incarnation, counter);
        }

        Interlocked.Increment(ref Counters.Opened);
        return true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _sendCipher?.Dispose();
        foreach (AesGcm cipher in _receiveCiphers.Values)
        {
            cipher.Dispose();
        }
    }

    private ReplayWindow WindowOf(uint sender)
    {
        if (!_windows.TryGetValue(sender, out ReplayWindow? window))
        {
            window = new ReplayWindow();
            _windows[sender] = window;
        }

        return window;
    }

    /// <summary>Keeps only the newest authenticated incarnation's cipher per sender.</summary>
    private void Adopt(uint sender, ulong incarnation, AesGcm cipher)
    {
        foreach ((uint, ulong) old in _receiveCiphers.Keys.Where(k => k.Node == sender).ToList())
        {
            _receiveCiphers[old].Dispose();
            _receiveCiphers.Remove(old);
        }

        _receiveCiphers[(sender, incarnation)] = cipher;
    }

    private static byte[] DeriveKey(ClusterKey key, uint node, ulong incarnation)
    {
        byte[] info = new byte[KdfLabel.Length + 12];
        KdfLabel.CopyTo(info, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(KdfLabel.Length), node);
        BinaryPrimitives.WriteUInt64LittleEndian(info.AsSpan(KdfLabel.Length + 4), incarnation);
        return HKDF.DeriveKey(HashAlgorithmName.SHA256, key.Secret.ToArray(), 32, salt: [], info);
    }

    private static void WriteNonce(Span<byte> nonce, ulong counter)
    {
        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], counter);
    }
}

/// <summary>Daemon-link packet counters.</summary>
public sealed class LinkCounters
{
    /// <summary>Packets sealed for sending.</summary>
    public long Sealed;

    /// <summary>Packets authenticated and opened.</summary>
    public long Opened;

    /// <summary>Too short or of an unknown format.</summary>
    public long Malformed;

    /// <summary>Sealed under another cluster's key.</summary>
    public long OtherCluster;

    /// <summary>Failed authentication: altered or forged.</summary>
    public long Forged;

    /// <summary>Authentic but already seen, or from an older incarnation.</summary>
    public long Replayed;

    /// <summary>Plaintext packets received while links are sealed.</summary>
    public long Unsealed;
}
