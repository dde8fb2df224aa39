using System.Globalization;
using System.Text;
using Conclave.Client;
using Conclave.Protocol.Spread;

namespace Conclave.Cli.Commands;

/// <summary>How `conclave user` prints what it receives (one block per message, spuser's wording).</summary>
internal static class UserFormat
{
    public static string Service(ServiceType type)
    {
        string name = (type & ServiceType.RegularMask) switch
        {
            ServiceType.Unreliable => "UNRELIABLE",
            ServiceType.Reliable => "RELIABLE",
            ServiceType.Fifo => "FIFO",
            ServiceType.Causal => "CAUSAL",
            ServiceType.Agreed => "AGREED",
            ServiceType.Safe => "SAFE",
            _ => $"0x{(uint)type:x}",
        };
        return (type & ServiceType.SelfDiscard) != 0 ? name + "+SELF_DISCARD" : name;
    }

    public static string Describe(SpreadMessage message, string me)
    {
        var text = new StringBuilder();
        switch (message)
        {
            case DataMessage data:
                text.Append(CultureInfo.InvariantCulture, $"received {Service(data.ServiceType)} message from {data.Sender}, type {data.MessageType}, {data.Body.Length} bytes, to {string.Join(' ', data.Groups)}");
                if (data.EndianMismatch)
                {
                    text.Append(" (sender of the other byte order)");
                }

                text.Append(": ").Append(Printable(data.Body.Span));
                break;
            case MembershipMessage view:
                text.Append(CultureInfo.InvariantCulture, $"REGULAR membership for group {view.Group} with {view.Members.Count} members, where I am member {view.LocalIndex}:");
                foreach (string member in view.Members)
                {
                    text.Append("\n\t").Append(member);
                }

                text.Append(CultureInfo.InvariantCulture, $"\ngrp id is {(uint)view.GroupId.ProcId} {(uint)view.GroupId.Time} {view.GroupId.Index}");
                text.Append(view.Cause switch
                {
                    MembershipCause.Join => $"\nDue to the JOIN of {view.ChangedMember}",
                    MembershipCause.Leave => $"\nDue to the LEAVE of {view.ChangedMember}",
                    MembershipCause.Disconnect => $"\nDue to the DISCONNECT of {view.ChangedMember}",
                    _ => "\nDue to NETWORK change",
                });
                text.Append(CultureInfo.InvariantCulture, $"\nvs-sets: {view.VsSets.Count}, mine is #{view.LocalVsSetIndex}");
                for (int i = 0; i < view.VsSets.Count; i++)
                {
                    text.Append(CultureInfo.InvariantCulture, $"\n\tvs-set {i}{(i == view.LocalVsSetIndex ? " (mine)" : string.Empty)}: {string.Join(' ', view.VsSets[i])}");
                }

                break;
            case TransitionalMembershipMessage transitional:
                text.Append(CultureInfo.InvariantCulture, $"TRANSITIONAL membership for group {transitional.Group}");
                break;
            case SelfLeaveMessage selfLeave:
                text.Append(CultureInfo.InvariantCulture, $"received SELF-LEAVE of group {selfLeave.Group}");
                break;
            case RejectMessage reject:
                text.Append(CultureInfo.InvariantCulture, $"REJECTED {Service(reject.RejectedType)} (type word 0x{(uint)reject.RejectedType:x}) to {string.Join(' ', reject.Groups)}, {reject.Body.Length} bytes");
                break;
            default:
                text.Append(CultureInfo.InvariantCulture, $"received message of type 0x{(uint)message.ServiceType:x} for {me}");
                break;
        }

        return text.ToString();
    }

    private static string Printable(ReadOnlySpan<byte> body)
    {
        string text = Encoding.UTF8.GetString(body[..Math.Min(body.Length, 200)]).TrimEnd('\n');
        return body.Length > 200 ? text + "…" : text;
    }
}
