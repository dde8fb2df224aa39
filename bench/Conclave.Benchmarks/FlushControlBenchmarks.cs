using BenchmarkDotNet.Attributes;
using Conclave.Client;
using Conclave.Client.Flush.Internal;
using Conclave.Client.Internal;
using Conclave.Protocol.Spread;

namespace Conclave.Benchmarks;

/// <summary>
/// What a member's client spends on one FLUSH_OK delivered to it (2n² of FLUSH_OKs and FLUSH_RECVs reach the members
/// of a group per membership change): the received frame run through the Flush layer, decoded into a message first
/// (the general path) or read in place (the control path).
/// </summary>
[Config(typeof(InProcessShortRun))]
[MemoryDiagnoser]
public class FlushControlBenchmarks
{
    private const string Group = "bench";
    private const int Members = 50;
    private FlushCore _core = null!;
    private byte[] _buffer = [];
    private MessageHeader _header;

    [GlobalSetup]
    public void Setup()
    {
        string[] members = [.. Enumerable.Range(0, Members).Select(i => $"#m{i}#d3")];
        _core = new FlushCore(members[0], autoFlushOk: true);
        _core.Handle(new MembershipMessage(ServiceType.RegularMembership | ServiceType.CausedByJoin, Group, members, new GroupId(1, 1, 1), [[members[^1]]], 0, 0));
        _core.Sends.Clear();

        // A FLUSH_OK from the last member for a view the core has not seen yet: counted, nothing installed.
        _header = new MessageHeader(ServiceType.Fifo, 1, MessageHeader.EncodeHint(FlushWire.FlushOk), GroupId.Size);
        _buffer = new byte[MessageHeader.Size + SpreadLimits.GroupNameSize + GroupId.Size];
        _header.Format(_buffer, members[^1]);
        NameField.Write(Group, _buffer.AsSpan(MessageHeader.Size, SpreadLimits.GroupNameSize));
        new GroupId(1, 1, 2).Write(_buffer.AsSpan(MessageHeader.Size + SpreadLimits.GroupNameSize));
    }

    [Benchmark(Baseline = true, Description = "FLUSH_OK decoded, then handled")]
    public int Decoded()
    {
        var frame = new SpreadFrame(_buffer, _header);
        _core.Handle(MessageDecoder.Decode(frame, _core.PrivateGroup));
        return _core.Deliveries.Count;
    }

    [Benchmark(Description = "FLUSH_OK handled in place")]
    public int InPlace()
    {
        var frame = new SpreadFrame(_buffer, _header);
        return _core.TryHandleInPlace(frame) ? _core.Deliveries.Count : throw new InvalidOperationException("not a control frame");
    }
}
