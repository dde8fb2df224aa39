using GroupId = Conclave.Protocol.Spread.GroupId;

namespace Conclave.Client.Secure.Internal;

/// <summary>
/// A key agreement message to send: to the whole group (<paramref name="To"/> null), or to one member's private
/// group so that only its addressee receives, parses and verifies it. <paramref name="View"/> is the Flush view it
/// belongs to: a unicast is dropped rather than sent once that view is over (its addressee would refuse it as stale).
/// </summary>
internal readonly record struct KeyAgreementSend(string? To, byte[] Wire, GroupId View);
