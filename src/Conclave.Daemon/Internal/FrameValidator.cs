using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Internal;

/// <summary>
/// The daemon's checks of a client frame header (Spread's Sess_validate_read_header, plus a refusal
/// of unknown type bits). Any failure closes the session without a reply, as Spread does.
/// </summary>
internal static class FrameValidator
{
    /// <summary>
    /// The Flush library's bits (DONT_BLOCK, FLUSH_REQ_MESS, SUBGROUP_CAST): its unicast and
    /// subgroupcast set them in the type word, and Spread forwards them untouched.
    /// </summary>
    private const ServiceType FlushLibraryBits = (ServiceType)0x7000_0000;

    /// <summary>Type bits a client may set: one request kind, SELF_DISCARD and the Flush library's bits.</summary>
    private const ServiceType AllowedClientBits = ServiceTypeRules.RequestKindMask | ServiceType.SelfDiscard | FlushLibraryBits;

    /// <summary>Null if the header is acceptable, else why not.</summary>
    public static string? Validate(in MessageHeader header, ReadOnlySpan<byte> privateNameField, ReadOnlySpan<byte> expectedPrivateName)
    {
        if (!ServiceTypeRules.HasExactlyOneRequestKind(header.Type))
        {
            return $"type 0x{(uint)header.Type:x8} must set exactly one service or request bit";
        }

        if ((header.Type & ~AllowedClientBits) != 0)
        {
            return $"type 0x{(uint)header.Type:x8} sets bits a client may not use";
        }

        if (!NameField.Trim(privateNameField).SequenceEqual(expectedPrivateName))
        {
            return "the private group name is not the session's own";
        }

        if (header.NumGroups is < 0 or > SpreadLimits.MaxGroupsPerMessage)
        {
            return $"num_groups {header.NumGroups} is outside 0..{SpreadLimits.MaxGroupsPerMessage}";
        }

        if ((header.RawHint & ~MessageHeader.LegalHintBits) != 0)
        {
            return $"hint 0x{header.RawHint:x8} has bits outside 0x{MessageHeader.LegalHintBits:x8}";
        }

        if (header.DataLength < 0 || header.PayloadLength > SpreadLimits.MaxMessageBodyLength - SpreadLimits.HeaderSize)
        {
            return $"data_len {header.DataLength} with {header.NumGroups} groups exceeds the message limit";
        }

        bool membershipRequest = (header.Type & (ServiceType.JoinRequest | ServiceType.LeaveRequest)) != 0;
        if (membershipRequest && header.NumGroups != 1)
        {
            return "a join or leave names exactly one group";
        }

        return null;
    }
}
