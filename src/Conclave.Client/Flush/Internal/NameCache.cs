using System.Text;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Flush.Internal;

/// <summary>
/// The strings of the names a session keeps seeing (members, groups), found from a frame's raw name field without
/// allocating: a FLUSH_OK from each of n members reaches every member, so decoding its sender afresh each time
/// would allocate n² strings per membership change.
/// </summary>
internal sealed class NameCache
{
    // Names of members come and go; past this many the cache starts over rather than growing without bound.
    private const int Capacity = 4096;

    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _byChars;

    public NameCache() => _byChars = _names.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The name in a NUL-padded field, as <see cref="NameField.Read"/> decodes it (Latin-1).</summary>
    public string Get(ReadOnlySpan<byte> field)
    {
        ReadOnlySpan<byte> name = NameField.Trim(field);
        Span<char> chars = stackalloc char[SpreadLimits.GroupNameSize];
        int length = Encoding.Latin1.GetChars(name, chars);
        if (_byChars.TryGetValue(chars[..length], out string? known))
        {
            return known;
        }

        if (_names.Count >= Capacity)
        {
            _names.Clear();
        }

        string added = new(chars[..length]);
        _names.Add(added, added);
        return added;
    }
}
