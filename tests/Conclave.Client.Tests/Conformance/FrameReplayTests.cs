namespace Conclave.Client.Tests.Conformance;

/// <summary>
/// Streams whose clients were not the scripted libspread driver — the flush library (11), the spuser
/// sample (13), the observer of the malformed-frame scenario (09), a priority-1 handshake (14) —
/// replayed frame by frame.
/// </summary>
public sealed class FrameReplayTests
{
    public static TheoryData<string, string, int?> Streams() => new()
    {
        { "09_malformed_frames.json", "alice", null },
        { "09_malformed_frames.json", "ok1", 7 },
        { "11_flush_library.json", "alice", null },
        { "11_flush_library.json", "bob", 3 },
        { "11_flush_library.json", "carol", 11 },
        { "13_spuser_sample_client.json", "su1", null },
        { "13_spuser_sample_client.json", "su2", 5 },
        { "14_handshake_variants.json", "prio1_memb", 1 },
        { "14_handshake_variants.json", "name_len_0_flags_0x10", 1 },
        { "06_delivery_rules.json", "alice", 9 },
        { "10b_network_partition_merge.json", "bob", 2 },
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public async Task Recorded_stream_replays_frame_by_frame(string file, string label, int? fragmentSeed)
    {
        using var hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await FrameReplay.RunAsync(Transcript.Load(file), label, fragmentSeed, hangGuard.Token);
    }
}
