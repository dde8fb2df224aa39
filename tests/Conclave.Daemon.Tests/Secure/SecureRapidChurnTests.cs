using Conclave.Crypto.KeyAgreement;
using Xunit.Abstractions;

namespace Conclave.Daemon.Tests.Secure;

/// <summary>
/// The churn of <see cref="SecureChurnTests"/> without waiting for anything between network changes: a seeded
/// sequence of partitions (d3's members always stay together) each held for a random while, so changes land at
/// arbitrary points of flushes and key agreement runs; after the final heal the same whole-history checks hold.
/// </summary>
public sealed class SecureRapidChurnTests(ITestOutputHelper output)
{
    // Found by this test, not fixed yet (docs/secure-layer.md, "Known bugs"); these seeds reproduce them on every run
    // tried. Unskip to reproduce; the test prints the daemons' rings and each member's key agreement counters.
    private const string StuckMerge = "Known bug: a GDH/TGDH merge of members whose previous views differ (one moved between components "
        + "while another stayed behind) announces overlapping state; every member refuses it as Invalid and the run never ends";

    private const string StaleMember = "Known bug: under CKD one member (m2) stayed on an old epoch while the others refreshed, "
        + "and refused their messages as other-epoch (about 2,000) until the next view";

    private static readonly int[][][] Shapes =
    [
        [[1], [2, 3]],
        [[1, 2], [3]],
        [[1, 3], [2]],
        [[1], [2], [3]],
        [[1, 2, 3]],
    ];

    [Theory]
    [InlineData(KeyAgreementProtocol.Gdh, 1, Skip = StuckMerge)]
    [InlineData(KeyAgreementProtocol.Tgdh, 3, Skip = StuckMerge)]
    [InlineData(KeyAgreementProtocol.Ckd, 1, Skip = StaleMember)]
    public Task Network_changes_at_random_points_of_key_agreement_still_converge(KeyAgreementProtocol protocol, int seed) =>
        SecureChurnTests.RunAsync(output, protocol, signed: false, async (ring, byDaemon, all) =>
        {
            var random = new Random(seed);
            var applied = new List<string>();
            for (int step = 0; step < 6; step++)
            {
                int[][] shape = Shapes[random.Next(Shapes.Length)];
                int hold = random.Next(50, 1200);
                ring.Partition(shape);
                applied.Add($"{string.Join("|", shape.Select(c => string.Concat(c)))} {hold} ms");
                await Task.Delay(hold, CancellationToken.None); // How long the shape lasts: pacing of the fault, not synchronisation.
            }

            output.WriteLine($"{protocol} seed {seed}: {string.Join(", ", applied)}, heal");
            ring.Heal();
            try
            {
                await SecureConvergence.OneKeyPerComponentAsync("all five after the last heal", all);
            }
            catch (TimeoutException)
            {
                output.WriteLine(string.Join("\n", ring.Daemons.Select(d => $"{d.Statistics.Ring} groups {string.Join(";", d.StatusReport().Groups.Select(g => g.Name + ":" + string.Join(",", g.Members)))}")));
                output.WriteLine(string.Join("\n", all.Select(m => $"{m.Name} runs {m.Counters.RunsStarted} keys {m.Counters.KeysInstalled} rejected {m.Counters.KeyAgreementRejected} stale {m.Counters.KeyAgreementStale} last rejection {m.Connection.CoreOf(m.Group)?.LastRejection}")));
                throw;
            }

            await SecureConvergence.UntilAsync(() => all.All(m => SecureChurnTests.HeardAllSinceLastView(m, all)), all, "traffic among all five");
        });
}
