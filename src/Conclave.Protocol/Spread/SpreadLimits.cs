namespace Conclave.Protocol.Spread;

/// <summary>Sizes and limits of the Spread 4.4 client protocol (spread-client-protocol.md §4).</summary>
public static class SpreadLimits
{
    /// <summary>The default client port (TCP, and the Unix socket <c>/tmp/4803</c>).</summary>
    public const int DefaultPort = 4803;

    /// <summary>Bytes in a framed message header.</summary>
    public const int HeaderSize = 48;

    /// <summary>Bytes in a group-name field, NUL padding included.</summary>
    public const int GroupNameSize = 32;

    /// <summary>Longest group name: the field keeps one byte for the NUL.</summary>
    public const int MaxGroupNameLength = GroupNameSize - 1;

    /// <summary>Longest private (session) name a client may ask for.</summary>
    public const int MaxPrivateNameLength = 10;

    /// <summary>Longest daemon name (MAX_PROC_NAME 20 including the NUL).</summary>
    public const int MaxDaemonNameLength = 19;

    /// <summary>Most destination groups in one message.</summary>
    public const int MaxGroupsPerMessage = 100;

    /// <summary>Largest message: body plus 32 bytes per group name (MAX_MESSAGE_BODY_LEN).</summary>
    public const int MaxMessageBodyLength = 14_400_000;

    /// <summary>Messages a daemon queues for a session that is not reading before it kills it.</summary>
    public const int DefaultMaxSessionMessages = 1000;

    /// <summary>Bytes of the client's authentication choice: 3 slots of 30.</summary>
    public const int AuthChoiceSize = 90;

    /// <summary>Bytes of one authentication method slot.</summary>
    public const int AuthNameSize = 30;

    /// <summary>The version this implementation speaks and reports: 4.4.0.</summary>
    public static readonly SpreadVersion ProtocolVersion = new(4, 4, 0);
}
