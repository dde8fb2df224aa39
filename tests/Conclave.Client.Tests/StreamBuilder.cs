using Conclave.Client.Tests.Conformance;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests;

/// <summary>Builds a synthetic stream for <see cref="ScriptedDaemon"/>: an accepted 4.4 handshake, then chosen bytes each way.</summary>
internal sealed class StreamBuilder
{
    private readonly List<Chunk> _chunks = [];
    private double? _daemonEof;

    public static StreamBuilder Accepting(string name, bool membership = true, string daemon = "localhost")
    {
        var builder = new StreamBuilder();
        builder.Client(new ConnectRequest(SpreadLimits.ProtocolVersion, membership ? ConnectRequest.MembershipFlag : (byte)0, name).Encode());
        builder.Daemon(AuthExchange.EncodeMethodList([AuthExchange.NullMethod]));
        builder.Client(AuthExchange.EncodeChoice([AuthExchange.NullMethod]));
        builder.Daemon(AcceptReply.Encode(SpreadLimits.ProtocolVersion, SpreadLimits.ProtocolVersion, PrivateGroupName.Format(name, daemon)));
        return builder;
    }

    /// <summary>Bytes the client is expected to send next (the daemon waits for them before what follows).</summary>
    public StreamBuilder Client(byte[] bytes)
    {
        _chunks.Add(new Chunk(true, _chunks.Count, bytes));
        return this;
    }

    /// <summary>Bytes the daemon writes next.</summary>
    public StreamBuilder Daemon(byte[] bytes)
    {
        _chunks.Add(new Chunk(false, _chunks.Count, bytes));
        return this;
    }

    /// <summary>The daemon closes its side here.</summary>
    public StreamBuilder DaemonCloses()
    {
        _daemonEof = _chunks.Count;
        return this;
    }

    public TranscriptStream Build() => new() { Label = "synthetic", ConnectionIndex = 0, Chunks = [.. _chunks], DaemonEofMs = _daemonEof };
}
