namespace Conclave.Client.Tests.Conformance;

/// <summary>
/// Replays the Spread 4.4 recordings from the daemon's side: the client must send exactly the bytes
/// libspread sent and decode exactly what libspread's SP_receive returned.
/// </summary>
public sealed class TranscriptReplayTests
{
    public static TheoryData<string, int?> Scenarios()
    {
        string[] files =
        [
            "01_connect_membership_disconnect.json",
            "02_connect_no_membership_generated_name.json",
            "04_join_membership.json",
            "05_service_types.json",
            "06_delivery_rules.json",
            "07_leave_disconnect_kill.json",
            "08_large_messages.json",
            "10_network_membership.json",
            "10b_network_partition_merge.json",
            "12_big_endian_client.json",
        ];
        var data = new TheoryData<string, int?>();
        foreach (string file in files)
        {
            data.Add(file, null);
            data.Add(file, 1);
            data.Add(file, 4242);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Driver_program_replays_byte_for_byte(string file, int? fragmentSeed)
    {
        using var hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        Transcript transcript = Transcript.Load(file);
        await using var replay = new DriverReplay(transcript, fragmentSeed, hangGuard.Token);

        await replay.RunAsync();
        await replay.VerifyClientBytesAsync();

        Assert.True(replay.CheckedLines >= 2, "the driver transcript had nothing to replay");
    }
}
