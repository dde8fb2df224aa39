using System.Buffers.Binary;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Flush.Internal;

/// <summary>
/// Sans-IO Flush layer of one session: feed it every Spread message the session receives and every
/// application action; take the events to deliver and the Spread messages to send, in order.
/// </summary>
/// <remarks>Not thread-safe: its driver serialises calls and performs the sends in the order they are queued.</remarks>
internal sealed class FlushCore(string privateGroup, bool autoFlushOk)
{
    private readonly Dictionary<string, FlushGroup> _groups = new(StringComparer.Ordinal);
    private readonly NameCache _names = new();
    private readonly HashSet<string> _agreedOnly = new(StringComparer.Ordinal);
    private readonly HashSet<string> _coordinated = new(StringComparer.Ordinal);

    public string PrivateGroup { get; } = privateGroup;

    public bool AutoFlushOk { get; } = autoFlushOk;

    /// <summary>Messages received but not delivered, by reason.</summary>
    public FlushDropCounters Drops { get; } = new();

    /// <summary>Gets or sets where the protocol's milestones are logged, or null.</summary>
    public FlushLog? Log { get; set; }

    /// <summary>Gets the coordinator exchange's dropped control messages (coordinated groups only).</summary>
    public FlushCoordinationCounters Coordination { get; } = new();

    /// <summary>Events for the application, oldest first; filled only while handling received messages, so the receiving flow alone touches it.</summary>
    public Queue<FlushEvent> Deliveries { get; } = new();

    /// <summary>Spread messages to send, oldest first; a send must be on the wire before any later one.</summary>
    public Queue<Outgoing> Sends { get; } = new();

    public FlushGroup? Group(string name) => _groups.GetValueOrDefault(name);

    internal void Deliver(FlushEvent e) => Deliveries.Enqueue(e);

    internal void Send(Outgoing message) => Sends.Enqueue(message);

    /// <summary>Checks that the session may join <paramref name="group"/>: FL refuses a group it is still involved with.</summary>
    public void CheckJoin(string group)
    {
        if (_groups.ContainsKey(group))
        {
            throw new SpreadException(SpreadError.IllegalGroup, $"The session is already a member of '{group}'.");
        }
    }

    /// <summary>
    /// Joins <paramref name="group"/> as an agreed-only group (secure groups): its members send nothing but AGREED or
    /// SAFE messages, so no message of theirs is ever vulnerable and FL's FLUSH_RECV round (n² deliveries per
    /// membership change) has nothing to protect. Such a group skips it; weak-service sends to it are refused.
    /// </summary>
    /// <param name="group">The group.</param>
    /// <param name="coordinated">Also replace FL's FLUSH_OK multicasts by the coordinator exchange (every member of the group must).</param>
    public void MarkAgreedOnly(string group, bool coordinated = false)
    {
        _agreedOnly.Add(group);
        if (coordinated)
        {
            _coordinated.Add(group);
        }
    }

    /// <summary>Forgets an <see cref="MarkAgreedOnly"/> mark of a join that did not go out.</summary>
    public void UnmarkAgreedOnly(string group)
    {
        _agreedOnly.Remove(group);
        _coordinated.Remove(group);
    }

    /// <summary>Marks the group as being left: no more sends or flushes; events flow until the self-leave.</summary>
    public void Leave(string group)
    {
        FlushGroup g = Member(group);
        if (!g.Joined || g.Leaving)
        {
            throw new SpreadException(SpreadError.IllegalGroup, $"The session is not a member of '{group}'.");
        }

        g.Leaving = true;
    }

    public void FlushOk(string group) => Member(group).FlushOk();

    public Outgoing? PrepareSend(string group, ServiceType service, short messageType, ReadOnlySpan<byte> body, IReadOnlyList<string>? receivers) =>
        PrepareSend(group, service, messageType, (ReadOnlyMemory<byte>)body.ToArray(), receivers);

    public Outgoing? PrepareSend(string group, ServiceType service, short messageType, ReadOnlyMemory<byte> body, IReadOnlyList<string>? receivers)
    {
        if (messageType < FlushWire.MinApplicationType)
        {
            throw new SpreadException(SpreadError.IllegalMessage, $"Message types below {FlushWire.MinApplicationType} are reserved by the Flush layer.");
        }

        return Member(group).PrepareSend(service, messageType, body, receivers);
    }

    /// <summary>Handles one message from the Spread session.</summary>
    public void Handle(SpreadMessage message)
    {
        switch (message)
        {
            case DataMessage data:
                OnData(data);
                break;
            case MembershipMessage m:
                if (!_groups.TryGetValue(m.Group, out FlushGroup? group))
                {
                    group = new FlushGroup(this, m.Group) { AgreedOnly = _agreedOnly.Contains(m.Group), Coordinated = _coordinated.Contains(m.Group) };
                    _groups.Add(m.Group, group);
                }

                group.OnMembership(m);
                break;
            case TransitionalMembershipMessage t:
                _groups.GetValueOrDefault(t.Group)?.OnTransitional();
                break;
            case SelfLeaveMessage leave:
                _groups.Remove(leave.Group);
                _agreedOnly.Remove(leave.Group);
                _coordinated.Remove(leave.Group);
                Deliver(new FlushSelfLeave(leave.Group));
                break;
        }
    }

    /// <summary>
    /// Handles a FLUSH_OK, a FLUSH_RECV or a plain application multicast to one of the session's groups straight from
    /// the received frame, with names from the cache instead of decoded afresh (n² FLUSH_OKs and FLUSH_RECVs reach the
    /// members of a group per membership change; data is the per-message path).
    /// </summary>
    /// <returns>False, having done nothing, for any other frame: decode it and pass it to <see cref="Handle"/>.</returns>
    public bool TryHandleInPlace(in SpreadFrame frame) => TryHandleInPlace(frame, null, out _);

    /// <summary>
    /// As <see cref="TryHandleInPlace(in SpreadFrame)"/>; an application message of type <paramref name="lendType"/> keeps its
    /// body in the frame instead of a copy, and comes back in <paramref name="lent"/>: the caller must keep the frame
    /// until that message is consumed.
    /// </summary>
    public bool TryHandleInPlace(in SpreadFrame frame, short? lendType, out FlushDataMessage? lent)
    {
        lent = null;
        ServiceType type = frame.ServiceType;
        if ((type & (ServiceType.Reject | ServiceType.RegularMembership | ServiceType.TransitionMembership | FlushWire.SubgroupCast)) != 0
            || ServiceTypeRules.IsSelfLeave(type) || frame.GroupCount < 1)
        {
            return false;
        }

        short messageType = frame.MessageType;
        if (messageType >= FlushWire.MinApplicationType)
        {
            if (!_groups.TryGetValue(_names.Get(frame.GroupBytes(0)), out FlushGroup? target))
            {
                return false;
            }

            // The body outlives the pooled frame, unless the caller keeps the frame for it.
            bool lend = messageType == lendType;
            var message = new FlushDataMessage(target.Name, _names.Get(frame.SenderBytes), type & ServiceType.RegularMask, messageType, null, frame.EndianMismatch, lend ? frame.Body : frame.Body.ToArray());
            int queued = Deliveries.Count;
            target.OnData(message, null);

            // Lent only if delivered: a message from outside the view is dropped, and its frame can go back at once.
            lent = lend && Deliveries.Count > queued ? message : null;
            return true;
        }

        ReadOnlySpan<byte> body = frame.Body.Span;
        if ((messageType != FlushWire.FlushOk && messageType != FlushWire.FlushRecv) || body.Length < GroupId.Size)
        {
            return false;
        }

        if (!_groups.TryGetValue(_names.Get(frame.GroupBytes(0)), out FlushGroup? group))
        {
            return false;
        }

        GroupId id = GroupId.Read(body[^GroupId.Size..], frame.EndianMismatch);
        if (messageType == FlushWire.FlushOk && group.Coordinated)
        {
            // Unicast FLUSH_OKs carry the subgroup bit and take the decoding path; a multicast one is an ALL_FLUSHED.
            group.OnAllFlushed(_names.Get(frame.SenderBytes), id, type);
        }
        else if (messageType == FlushWire.FlushOk)
        {
            group.OnFlushOk(_names.Get(frame.SenderBytes), id);
        }
        else
        {
            group.OnFlushRecv(id);
        }

        return true;
    }

    private FlushGroup Member(string group) =>
        _groups.TryGetValue(group, out FlushGroup? g) ? g : throw new SpreadException(SpreadError.IllegalGroup, $"The session is not a member of '{group}'.");

    private void OnData(DataMessage data)
    {
        ReadOnlyMemory<byte> body = data.Body;
        bool subgroup = (data.ServiceType & FlushWire.SubgroupCast) != 0;
        string? destination;
        if (subgroup)
        {
            if (body.Length < SpreadLimits.GroupNameSize)
            {
                return;
            }

            destination = NameField.Read(body.Span[^SpreadLimits.GroupNameSize..]);
            body = body[..^SpreadLimits.GroupNameSize];
        }
        else
        {
            destination = data.Groups.Count > 0 ? data.Groups[0] : null;
        }

        if (destination is null)
        {
            return;
        }

        if (!_groups.TryGetValue(destination, out FlushGroup? group))
        {
            if (string.Equals(destination, PrivateGroup, StringComparison.Ordinal))
            {
                Deliver(new FlushDataMessage(PrivateGroup, data.Sender, data.Service, data.MessageType, null, data.EndianMismatch, data.Body));
            }
            else
            {
                Drops.CountUnknownGroup();
            }

            return;
        }

        short messageType = data.MessageType;
        GroupId? tagged = null;
        if (messageType < FlushWire.MinApplicationType)
        {
            if (body.Length < GroupId.Size)
            {
                if (group.Coordinated)
                {
                    group.RejectControl(data.Sender, "a control message too short for its view id");
                }

                return;
            }

            tagged = GroupId.Read(body.Span[^GroupId.Size..], data.EndianMismatch);
            body = body[..^GroupId.Size];
            if (messageType == FlushWire.FlushOk && group.Coordinated)
            {
                if (subgroup)
                {
                    group.OnCoordinatedFlushOk(data.Sender, tagged.Value, data.Service);
                }
                else
                {
                    group.OnAllFlushed(data.Sender, tagged.Value, data.Service);
                }

                return;
            }

            if (messageType == FlushWire.FlushOk)
            {
                group.OnFlushOk(data.Sender, tagged.Value);
                return;
            }

            if (messageType == FlushWire.FlushRecv)
            {
                group.OnFlushRecv(tagged.Value);
                return;
            }

            if (messageType != FlushWire.Vulnerable || body.Length < 2)
            {
                return;
            }

            ReadOnlySpan<byte> type = body.Span[^2..];
            messageType = data.EndianMismatch ? BinaryPrimitives.ReadInt16BigEndian(type) : BinaryPrimitives.ReadInt16LittleEndian(type);
            body = body[..^2];
        }

        IReadOnlyList<string>? receivers = subgroup ? data.Groups : null;
        group.OnData(new FlushDataMessage(group.Name, data.Sender, data.Service, messageType, receivers, data.EndianMismatch, body), tagged);
    }
}
