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
    // GDH seed 1, TGDH seed 3 and CKD seed 1 reproduced two bugs (docs/secure-layer.md, "Fixed"): members reaching the
    // merged view from disagreeing previous views (one moved between components while another stayed behind) merged
    // overlapping state and refused it as Invalid (GDH, TGDH), or kept a pairwise key the other end had dropped (CKD).
    private static readonly int[][][] Shapes =
    [
        [[1], [2, 3]],
        [[1, 2], [3]],
        [[1, 3], [2]],
        [[1], [2], [3]],
        [[1, 2, 3]],
    ];

    [Theory]
    [InlineData(KeyAgreementProtocol.Gdh, 1)]
    [InlineData(KeyAgreementProtocol.Tgdh, 3)]
    [InlineData(KeyAgreementProtocol.Ckd, 1)]
    [InlineData(KeyAgreementProtocol.Gdh, 7)]
    [InlineData(KeyAgreementProtocol.Tgdh, 4)]
    [InlineData(KeyAgreementProtocol.Ckd, 7)]
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
