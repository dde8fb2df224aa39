using Conclave.Client.Secure;
using Conclave.Client.Tests.Flush;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Client.Tests.Secure;

/// <summary>
/// The secure layer over the seeded EVS model of the Flush tests: joins, leaves, disconnects, partitions, merges
/// and key refreshes land at random points of key agreement runs; every run must still end with one key per
/// view, the key only with its view, no message lost or refused, and every live member keyed once changes stop.
/// </summary>
public sealed class SecureSimulationTests
{
    private const int Seeds = 12;

    public static TheoryData<KeyAgreementProtocol, int> Runs()
    {
        var data = new TheoryData<KeyAgreementProtocol, int>();
        foreach (KeyAgreementProtocol protocol in new[] { KeyAgreementProtocol.Gdh, KeyAgreementProtocol.Ckd, KeyAgreementProtocol.Tgdh })
        {
            for (int seed = 0; seed < Seeds; seed++)
            {
                data.Add(protocol, seed);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void Changes_injected_into_key_agreement_runs_converge_to_one_key_per_view(KeyAgreementProtocol protocol, int seed) =>
        RunHistory(protocol, seed, coordinated: false);

    /// <summary>The same over the Flush layer's coordinator exchange (FLUSH_OK to the view's first member, ALL_FLUSHED from it).</summary>
    [Theory]
    [MemberData(nameof(Runs))]
    public void Changes_injected_into_key_agreement_runs_converge_over_the_coordinator_exchange(KeyAgreementProtocol protocol, int seed) =>
        RunHistory(protocol, seed + 500, coordinated: true);

    private static void RunHistory(KeyAgreementProtocol protocol, int seed, bool coordinated)
    {
        int processes = 3 + (seed % 3);
        using var layer = new SecureSimLayer(protocol, seed, processes);
        var sim = new EvsSimulator(seed, processes) { Layer = layer, AgreedOnly = true, Coordinated = coordinated };
        layer.Sim = sim;
        try
        {
            for (int step = 0; step < 300; step++)
            {
                sim.Step();
            }

            layer.Quiescing = true;
            sim.Quiesce();
            Check(sim, layer);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            Assert.Fail($"{protocol} seed {seed}: {e}");
        }
        catch (Xunit.Sdk.XunitException e)
        {
            Assert.Fail($"{protocol} seed {seed}: {e.Message}\n{string.Join(" ", sim.Events.TakeLast(40))}");
        }
    }

    [Fact]
    public void Histories_cut_runs_short_refresh_and_carry_sealed_traffic()
    {
        int cut = 0, refreshes = 0, sent = 0, unicasts = 0;
        long stale = 0;
        foreach (KeyAgreementProtocol protocol in new[] { KeyAgreementProtocol.Gdh, KeyAgreementProtocol.Ckd, KeyAgreementProtocol.Tgdh })
        {
            for (int seed = 0; seed < Seeds; seed++)
            {
                int processes = 3 + (seed % 3);
                using var layer = new SecureSimLayer(protocol, seed, processes);
                var sim = new EvsSimulator(seed, processes) { Layer = layer, AgreedOnly = true };
                layer.Sim = sim;
                for (int step = 0; step < 300; step++)
                {
                    sim.Step();
                }

                cut += layer.RunsCutShort;
                refreshes += layer.Refreshes;
                sent += layer.SealedSent;
                unicasts += layer.PrivateUnicastsDelivered;
                stale += layer.Counters.Sum(c => c.KeyAgreementStale);
            }
        }

        // The same histories as the theory above: changes did land inside runs, and left stale messages behind.
        Assert.True(cut > 10, $"only {cut} key agreement runs were cut short by a membership change");
        Assert.True(stale > 4, $"only {stale} stale key agreement messages ({cut} runs cut short)");
        Assert.True(refreshes > 5, $"only {refreshes} refreshes");
        Assert.True(sent > 50, $"only {sent} sealed messages");

        // Most of these histories re-key whole components by broadcasts; GDH and CKD joins still unicast.
        Assert.True(unicasts > 0, "no key agreement unicast went through a private group");
    }

    private static void Check(EvsSimulator sim, SecureSimLayer layer)
    {
        // One key per epoch: same fingerprint and members everywhere; distinct epochs, distinct keys.
        var byEpoch = new Dictionary<string, (string Fingerprint, string Members)>();
        foreach ((string member, _, SecureView view) in layer.Views)
        {
            string fp = Convert.ToHexString([.. view.KeyFingerprint]);
            string members = string.Join(",", view.Members);
            Assert.Contains(member, view.Members);
            if (!byEpoch.TryAdd(view.Epoch, (fp, members)))
            {
                Assert.True(byEpoch[view.Epoch] == (fp, members), $"epoch {view.Epoch}: {byEpoch[view.Epoch]} at one member, {(fp, members)} at {member}");
            }
        }

        Assert.Equal(byEpoch.Count, byEpoch.Values.Select(v => v.Fingerprint).Distinct().Count());

        // Nothing lost or refused: every sealed message the Flush layer delivered was opened.
        foreach (SecureGroupCounters c in layer.Counters)
        {
            Assert.True(c.Forged + c.OtherEpoch + c.Replays + c.BadSignature + c.KeyAgreementRejected == 0, $"forged {c.Forged} other epoch {c.OtherEpoch} replays {c.Replays} bad signature {c.BadSignature} key agreement rejected {c.KeyAgreementRejected} ({layer.Rejections})");
        }

        Assert.Equal(layer.SealedDeliveredByFlush, layer.SecureMessagesDelivered);

        // Liveness: once changes stop, every live member holds the key of its component's last view.
        foreach (EvsSimulator.Proc p in sim.Procs.Where(p => !p.Crashed && p.Component.Members.Contains(p.Name)))
        {
            SecureSimLayer.Member m = layer.Of(p.Name)!;
            Assert.True(m.Core is { HasKey: true }, $"{p.Name} has no key after quiescence");
            (string _, Protocol.Spread.GroupId flushView, SecureView last) = layer.Views.Last(v => v.Member == p.Name);
            Assert.Equal(p.Views[^1].Id, flushView);
            Assert.Equal(string.Join(",", p.Component.Members.Order(StringComparer.Ordinal)), string.Join(",", last.Members));
        }
    }
}
