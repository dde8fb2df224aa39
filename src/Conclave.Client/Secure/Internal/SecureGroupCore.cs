using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Conclave.Client.Diagnostics;
using Conclave.Client.Flush;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Client.Secure.Internal;

/*
 * Sealed data message (mess_type SealedType, sent AGREED or SAFE so it follows the key agreement
 * messages that established its key at every member):
 *   version (1) = 1 | view id (8, BE) | run (4, BE) | sequence (8, BE) | application mess_type (2, BE)
 *   | AES-256-GCM ciphertext | tag (16)
 * nonce = sender's index in the view (4, BE) | sequence (8, BE): unique per key because a key lives in one view.
 * associated data = header | group name | sender's private group name.
 */

/// <summary>
/// Sans-IO secure layer of one group over Flush events: runs the key agreement module on every view,
/// holds back the view until its key is established, seals and opens data messages, rejects replays.
/// </summary>
internal sealed class SecureGroupCore : IDisposable
{
    /// <summary>Key agreement messages: the module's wire format, broadcast (unicasts too; the module refuses those not for it).</summary>
    public const short KeyAgreementType = -32700;

    /// <summary>Sealed application data.</summary>
    public const short SealedType = -32699;

    private const byte Version = 1;
    private const int HeaderSize = 1 + 8 + 4 + 8 + 2;
    private const int TagSize = 16;

    private readonly IGroupKeyAgreement _module;
    private readonly string _group;
    private readonly string _self;
    private readonly Dictionary<string, long> _lastSequence = new(StringComparer.Ordinal);
    private IReadOnlyList<string> _members = [];
    private Protocol.Spread.GroupId _flushView;
    private ulong _viewId;
    private Epoch? _epoch;
    private AesGcm? _aead;
    private long _nextSequence;

    public SecureGroupCore(IGroupKeyAgreement module, string group, string self)
    {
        _module = module;
        _group = group;
        _self = self;
    }

    public Queue<SecureEvent> Deliveries { get; } = new();

    /// <summary>Key agreement messages to multicast, in order.</summary>
    public Queue<byte[]> Sends { get; } = new();

    public SecureGroupCounters Counters { get; } = new();

    /// <summary>Metrics and logs of key agreements and refused messages.</summary>
    public ISecureGroupObserver Observer { get; init; } = NoSecureGroupObserver.Instance;

    /// <summary>True when the current view has its key, so <see cref="Seal"/> works.</summary>
    public bool HasKey => _aead is not null;

    /// <summary>The Flush view whose key is installed, or null while keying.</summary>
    public Protocol.Spread.GroupId? KeyedView => _aead is null ? null : _flushView;

    public static ulong ViewIdOf(Protocol.Spread.GroupId id) => ((ulong)(uint)id.Time << 32) | (uint)id.Index;

    public void Handle(FlushEvent e)
    {
        switch (e)
        {
            case FlushView view:
                OnView(view);
                break;
            case FlushDataMessage { MessageType: KeyAgreementType } ka:
                StepResult r = _module.OnMessage(ka.Body.Span);
                if (r.Rejection is not Rejection.None and not Rejection.NotForMe)
                {
                    Counters.KeyAgreementRejected++;
                    Observer.Rejected(SecureRejection.KeyAgreement, ka.Sender);
                }

                Apply(r);
                break;
            case FlushDataMessage { MessageType: SealedType } data:
                Open(data);
                break;
            case FlushSelfLeave:
                DropKey();
                Deliveries.Enqueue(new SecureLeft(_group));
                break;
        }
    }

    /// <summary>Seals a message under the current key, or returns null while the view has none.</summary>
    public byte[]? Seal(short messageType, ReadOnlySpan<byte> plaintext)
    {
        if (_aead is null || _epoch is not Epoch epoch)
        {
            return null;
        }

        long sequence = _nextSequence++;
        var sealedMessage = new byte[HeaderSize + plaintext.Length + TagSize];
        Span<byte> header = sealedMessage.AsSpan(0, HeaderSize);
        WriteHeader(header, epoch, sequence, messageType);
        Span<byte> nonce = stackalloc byte[12];
        Nonce(nonce, IndexOf(_self), sequence);
        _aead.Encrypt(nonce, plaintext, sealedMessage.AsSpan(HeaderSize, plaintext.Length), sealedMessage.AsSpan(HeaderSize + plaintext.Length), AssociatedData(header, _self));
        return sealedMessage;
    }

    public void Dispose()
    {
        DropKey();
        _module.Dispose();
    }

    private void OnView(FlushView view)
    {
        // Nothing may be sealed under a key a departed member knows: the old key goes with the old view.
        DropKey();
        IReadOnlyList<string> previous = _members;
        _members = view.Members;
        _viewId = ViewIdOf(view.GroupId);
        _flushView = view.GroupId;
        string[] joined = previous.Count == 0 ? [.. view.Members.Where(m => m != _self)] : [.. view.Members.Except(previous, StringComparer.Ordinal)];
        string[] left = [.. previous.Except(view.Members, StringComparer.Ordinal)];
        Observer.KeyAgreementStarted(view.Members.Count);
        Apply(_module.OnView(new KeyAgreementView(_viewId, view.Members, joined, left)));
    }

    private void Apply(StepResult result)
    {
        foreach (KeyAgreementOutput output in result.Outputs)
        {
            switch (output)
            {
                case SendMessage send:
                    Sends.Enqueue(send.Wire);
                    break;
                case KeyEstablished key when key.Epoch.ViewId == _viewId:
                    InstallKey(key);
                    break;
            }
        }
    }

    private void InstallKey(KeyEstablished key)
    {
        DropKey();
        byte[] info = Encoding.UTF8.GetBytes("conclave secure data v1 " + _group);
        byte[] dataKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, key.Key, 32, salt: null, info);
        _aead = new AesGcm(dataKey, TagSize);
        CryptographicOperations.ZeroMemory(dataKey);
        _epoch = key.Epoch;
        Observer.KeyEstablished(key.Epoch.ToString(), _members.Count);
        Deliveries.Enqueue(new SecureView(_group, _members, key.Epoch.ToString(), key.Confirmation[..8]));
    }

    private void DropKey()
    {
        _aead?.Dispose();
        _aead = null;
        _epoch = null;
        _nextSequence = 0;
        _lastSequence.Clear();
    }

    private void Open(FlushDataMessage data)
    {
        ReadOnlySpan<byte> wire = data.Body.Span;
        int senderIndex = IndexOf(data.Sender);
        if (wire.Length < HeaderSize + TagSize || wire[0] != Version || senderIndex < 0)
        {
            Counters.Forged++;
            Observer.Rejected(SecureRejection.Forged, data.Sender);
            return;
        }

        var epoch = new Epoch(BinaryPrimitives.ReadUInt64BigEndian(wire[1..]), BinaryPrimitives.ReadUInt32BigEndian(wire[9..]));
        if (_aead is null || epoch != _epoch)
        {
            Counters.OtherEpoch++;
            Observer.Rejected(SecureRejection.OtherEpoch, data.Sender);
            return;
        }

        long sequence = BinaryPrimitives.ReadInt64BigEndian(wire[13..]);
        if (sequence <= _lastSequence.GetValueOrDefault(data.Sender, -1))
        {
            Counters.Replays++;
            Observer.Rejected(SecureRejection.Replay, data.Sender);
            return;
        }

        short messageType = BinaryPrimitives.ReadInt16BigEndian(wire[21..]);
        ReadOnlySpan<byte> ciphertext = wire[HeaderSize..^TagSize];
        var plaintext = new byte[ciphertext.Length];
        Span<byte> nonce = stackalloc byte[12];
        Nonce(nonce, senderIndex, sequence);
        try
        {
            _aead.Decrypt(nonce, ciphertext, wire[^TagSize..], plaintext, AssociatedData(wire[..HeaderSize], data.Sender));
        }
        catch (AuthenticationTagMismatchException)
        {
            Counters.Forged++;
            Observer.Rejected(SecureRejection.Forged, data.Sender);
            return;
        }

        _lastSequence[data.Sender] = sequence;
        Deliveries.Enqueue(new SecureMessage(_group, data.Sender, messageType, plaintext));
    }

    private int IndexOf(string member)
    {
        for (int i = 0; i < _members.Count; i++)
        {
            if (string.Equals(_members[i], member, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static void WriteHeader(Span<byte> header, Epoch epoch, long sequence, short messageType)
    {
        header[0] = Version;
        BinaryPrimitives.WriteUInt64BigEndian(header[1..], epoch.ViewId);
        BinaryPrimitives.WriteUInt32BigEndian(header[9..], epoch.Run);
        BinaryPrimitives.WriteInt64BigEndian(header[13..], sequence);
        BinaryPrimitives.WriteInt16BigEndian(header[21..], messageType);
    }

    private static void Nonce(Span<byte> nonce, int senderIndex, long sequence)
    {
        BinaryPrimitives.WriteInt32BigEndian(nonce, senderIndex);
        BinaryPrimitives.WriteInt64BigEndian(nonce[4..], sequence);
    }

    private byte[] AssociatedData(ReadOnlySpan<byte> header, string sender)
    {
        byte[] group = Encoding.Latin1.GetBytes(_group);
        byte[] who = Encoding.Latin1.GetBytes(sender);
        var ad = new byte[header.Length + 1 + group.Length + 1 + who.Length];
        header.CopyTo(ad);
        ad[header.Length] = (byte)group.Length;
        group.CopyTo(ad.AsSpan(header.Length + 1));
        ad[header.Length + 1 + group.Length] = (byte)who.Length;
        who.CopyTo(ad.AsSpan(header.Length + 2 + group.Length));
        return ad;
    }
}
