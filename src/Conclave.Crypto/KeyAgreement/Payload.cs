using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Conclave.Crypto.KeyAgreement;

/// <summary>Builds message payloads: u16-counted name lists, u32-counted element lists, fixed-length elements.</summary>
internal sealed class PayloadWriter
{
    private readonly System.Buffers.ArrayBufferWriter<byte> _stream = new();

    public PayloadWriter Names(IReadOnlyList<string> names)
    {
        U16(names.Count);
        foreach (string name in names)
        {
            NameBody(name);
        }

        return this;
    }

    private void NameBody(string name)
    {
        // Encoded straight into the buffer: large name lists (a view of a thousand members) allocate nothing per name.
        int length = Encoding.UTF8.GetByteCount(name);
        U16(length);
        Span<byte> span = _stream.GetSpan(length);
        Encoding.UTF8.GetBytes(name, span);
        _stream.Advance(length);
    }

    public PayloadWriter Bytes(ReadOnlySpan<byte> fixedLength)
    {
        System.Buffers.BuffersExtensions.Write(_stream, (ReadOnlySpan<byte>)fixedLength);
        return this;
    }

    public PayloadWriter Elements(IReadOnlyList<byte[]> elements)
    {
        U32(elements.Count);
        foreach (byte[] element in elements)
        {
            System.Buffers.BuffersExtensions.Write(_stream, (ReadOnlySpan<byte>)element);
        }

        return this;
    }

    public PayloadWriter U8(int value)
    {
        System.Buffers.BuffersExtensions.Write(_stream, (ReadOnlySpan<byte>)[(byte)value]);
        return this;
    }

    public PayloadWriter U16(int value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, checked((ushort)value));
        System.Buffers.BuffersExtensions.Write(_stream, (ReadOnlySpan<byte>)b);
        return this;
    }

    public PayloadWriter U32(int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, value);
        System.Buffers.BuffersExtensions.Write(_stream, (ReadOnlySpan<byte>)b);
        return this;
    }

    public byte[] ToArray() => _stream.WrittenSpan.ToArray();
}

/// <summary>Reads payloads written by <see cref="PayloadWriter"/>; every read checks bounds and returns false when short.</summary>
internal ref struct PayloadReader(ReadOnlySpan<byte> data)
{
    private static readonly UTF8Encoding Strict = new(false, true);

    private readonly ReadOnlySpan<byte> _data = data;
    private int _at;

    public readonly bool AtEnd => _at == _data.Length;

    public bool Names(out List<string> names)
    {
        names = [];
        if (!U16(out int count))
        {
            return false;
        }

        HashSet<string>? seen = count > 1 ? new HashSet<string>(count, StringComparer.Ordinal) : null;
        for (int i = 0; i < count; i++)
        {
            if (!U16(out int length) || _at + length > _data.Length)
            {
                return false;
            }

            string name;
            try
            {
                name = Strict.GetString(_data.Slice(_at, length));
            }
            catch (DecoderFallbackException)
            {
                return false;
            }

            _at += length;
            if (name.Length == 0 || (seen is not null && !seen.Add(name)))
            {
                return false;
            }

            names.Add(name);
        }

        return true;
    }

    /// <summary>Reads a list of exactly one name (a TGDH leaf), without keeping a copy of its bytes.</summary>
    public bool Name(out string name)
    {
        name = string.Empty;
        if (!U16(out int count) || count != 1 || !U16(out int length) || length == 0 || _at + length > _data.Length)
        {
            return false;
        }

        try
        {
            name = Strict.GetString(_data.Slice(_at, length));
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        _at += length;
        return true;
    }

    /// <summary>Reads a list of exactly one name (a TGDH leaf) as its UTF-8 bytes, not decoded (the caller resolves them).</summary>
    public bool NameBytes(out ReadOnlySpan<byte> utf8)
    {
        utf8 = default;
        if (!U16(out int count) || count != 1 || !U16(out int length) || length == 0 || _at + length > _data.Length)
        {
            return false;
        }

        utf8 = _data.Slice(_at, length);
        _at += length;
        return true;
    }

    /// <summary>Reads <paramref name="expected"/>.Length bytes and compares them with it.</summary>
    public bool BytesEqual(ReadOnlySpan<byte> expected)
    {
        if (_at + expected.Length > _data.Length)
        {
            return false;
        }

        bool equal = _data.Slice(_at, expected.Length).SequenceEqual(expected);
        _at += expected.Length;
        return equal;
    }

    public bool Bytes(int length, out byte[] value)
    {
        value = [];
        if (length < 0 || _at + length > _data.Length)
        {
            return false;
        }

        value = _data.Slice(_at, length).ToArray();
        _at += length;
        return true;
    }

    public bool Elements(int elementLength, out List<byte[]> elements)
    {
        elements = [];
        if (!U32(out int count) || count < 0 || (long)count * elementLength > _data.Length - _at)
        {
            return false;
        }

        for (int i = 0; i < count; i++)
        {
            Bytes(elementLength, out byte[] element);
            elements.Add(element);
        }

        return true;
    }

    public bool U8(out int value)
    {
        value = 0;
        if (_at + 1 > _data.Length)
        {
            return false;
        }

        value = _data[_at++];
        return true;
    }

    public bool U16(out int value)
    {
        value = 0;
        if (_at + 2 > _data.Length)
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt16BigEndian(_data[_at..]);
        _at += 2;
        return true;
    }

    public bool U32(out int value)
    {
        value = 0;
        if (_at + 4 > _data.Length)
        {
            return false;
        }

        value = BinaryPrimitives.ReadInt32BigEndian(_data[_at..]);
        _at += 4;
        return true;
    }
}
