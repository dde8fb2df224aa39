using System.Buffers;
using System.Buffers.Binary;
using Conclave.Protocol.Spread;

namespace Conclave.Client;

/// <summary>
/// One received frame held in a pooled buffer: the low-allocation receive path for hot loops.
/// </summary>
/// <remarks>
/// <para>Layout of the buffer (spread-client-protocol.md §3.1, §3.7):</para>
/// <code>
///  header (48) | [old_type (4), reject messages only] | num_groups × 32-byte names | data_len body bytes
/// </code>
/// <para>
/// The frame owns a buffer rented from <see cref="ArrayPool{T}.Shared"/>; call <see cref="Dispose"/>
/// exactly once when done with it, and do not use the spans or memory it handed out afterwards.
/// Use <see cref="SpreadMessage.FromFrame"/> for a fully decoded, self-owned message instead.
/// </para>
/// </remarks>
public readonly struct SpreadFrame : IDisposable
{
    private readonly byte[] _buffer;
    private readonly MessageHeader _header;
    private readonly int _namesOffset;

    internal SpreadFrame(byte[] buffer, MessageHeader header)
    {
        _buffer = buffer;
        _header = header;
        _namesOffset = MessageHeader.Size + (IsReject ? 4 : 0);
    }

    /// <summary>Gets the decoded header (type word, group count, raw hint and body length).</summary>
    public MessageHeader Header => _header;

    /// <summary>Gets the type word without the endian marker, e.g. <c>Agreed | SelfDiscard</c> or <c>RegularMembership | CausedByJoin</c>.</summary>
    public ServiceType ServiceType => _header.Type;

    /// <summary>Gets a value indicating whether this is a reject message (the daemon refused a request).</summary>
    public bool IsReject => (_header.Type & ServiceType.Reject) != 0;

    /// <summary>Gets the 16-bit application message type, decoded in the original sender's byte order.</summary>
    public short MessageType => MessageHeader.DecodeMessageType(_header.RawHint, out _);

    /// <summary>Gets a value indicating whether the original sender's byte order differs from this host's (libspread's <c>endian_mismatch</c>).</summary>
    public bool EndianMismatch => (_header.RawHint & MessageHeader.EndianMarker) != MessageHeader.EndianMarker;

    /// <summary>Gets the number of 32-byte names after the header: destination groups of a data message, members of a view.</summary>
    public int GroupCount => _header.NumGroups;

    /// <summary>Gets the sender field, NUL-trimmed: the sender's private group for data, the group's name for memberships.</summary>
    public ReadOnlySpan<byte> SenderBytes => NameField.Trim(_buffer.AsSpan(4, SpreadLimits.GroupNameSize));

    /// <summary>Gets the sender field as a string (allocates).</summary>
    public string Sender => NameField.Read(_buffer.AsSpan(4, SpreadLimits.GroupNameSize));

    /// <summary>Gets the body.</summary>
    public ReadOnlyMemory<byte> Body => _buffer.AsMemory(_namesOffset + (SpreadLimits.GroupNameSize * _header.NumGroups), _header.DataLength);

    /// <summary>Gets the original type word of a reject message (without the endian marker), or <see cref="ServiceType.None"/>.</summary>
    public ServiceType RejectedType
    {
        get
        {
            if (!IsReject)
            {
                return ServiceType.None;
            }

            uint old = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(MessageHeader.Size));
            if (_header.WriterWasBigEndian)
            {
                old = BinaryPrimitives.ReverseEndianness(old);
            }

            return (ServiceType)(old & ~MessageHeader.EndianMarker);
        }
    }

    /// <summary>Gets the name at <paramref name="index"/>, NUL-trimmed.</summary>
    /// <param name="index">The position in the list, 0 ≤ index &lt; <see cref="GroupCount"/>.</param>
    /// <returns>The name's bytes.</returns>
    public ReadOnlySpan<byte> GroupBytes(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _header.NumGroups);
        return NameField.Trim(_buffer.AsSpan(_namesOffset + (SpreadLimits.GroupNameSize * index), SpreadLimits.GroupNameSize));
    }

    /// <summary>Gets the name at <paramref name="index"/> as a string (allocates).</summary>
    /// <param name="index">The position in the list, 0 ≤ index &lt; <see cref="GroupCount"/>.</param>
    /// <returns>The name.</returns>
    public string Group(int index) => NameField.Read(GroupBytes(index));

    /// <summary>Returns the pooled buffer. Call once.</summary>
    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }
    }
}
