namespace Conclave.Daemon.Tests.Conformance;

/// <summary>
/// Replays the Spread 4.4 recordings against an in-process daemon and compares the daemon's bytes
/// with the real daemon's, byte for byte, masking only what the README says varies.
/// </summary>
public sealed class ConformanceReplayTests
{
    public static TheoryData<string> OneDaemonScenarios() =>
    [
        "01_connect_membership_disconnect.json",
        "02_connect_no_membership_generated_name.json",
        "03_connect_rejects.json",
        "04_join_membership.json",
        "05_service_types.json",
        "06_delivery_rules.json",
        "07_leave_disconnect_kill.json",
        "08_large_messages.json",
        "09_malformed_frames.json",
        "12_big_endian_client.json",
        "13_spuser_sample_client.json",
        "14_handshake_variants.json",
    ];

    /// <summary>
    /// In the flush recording three members answer a view change at the same moment; the real daemon
    /// picked one interleaving and ours may pick another: every epoch (the frames between two
    /// memberships) must hold the same frames; the handshake must match byte for byte.
    /// </summary>
    [Fact]
    public async Task Flush_library_traffic_matches_up_to_the_order_of_concurrent_senders()
    {
        Transcript transcript = Transcript.Load("11_flush_library.json");
        await using TestDaemon daemon = TestDaemon.Start();

        IReadOnlyList<string> failures = await TranscriptReplayer.ReplayAsync(
            transcript, daemon.Endpoint, () => daemon.Daemon.Statistics.FramesIn + daemon.Daemon.Statistics.MalformedFrames, concurrentSenders: true);

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Theory]
    [MemberData(nameof(OneDaemonScenarios))]
    public async Task Daemon_reproduces_the_recorded_bytes(string file)
    {
        Transcript transcript = Transcript.Load(file);
        // A short authentication choice is refused at the deadline (Spread's behaviour), which the replay waits out:
        // short enough for that wait, far above what a starved machine needs for one handshake phase.
        await using TestDaemon daemon = TestDaemon.Start(o => o with { HandshakeTimeout = TimeSpan.FromSeconds(5) });

        IReadOnlyList<string> failures = await TranscriptReplayer.ReplayAsync(
            transcript, daemon.Endpoint, () => daemon.Daemon.Statistics.FramesIn + daemon.Daemon.Statistics.MalformedFrames);

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }
}
