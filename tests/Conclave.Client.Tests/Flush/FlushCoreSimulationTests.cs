using Conclave.Protocol.Spread;

namespace Conclave.Client.Tests.Flush;

/// <summary>
/// The sans-IO flush core under seeded random EVS histories (joins, leaves, disconnects, partitions,
/// merges, cascading changes during flushes): the View Synchrony guarantees and liveness once changes stop.
/// </summary>
public sealed class FlushCoreSimulationTests
{
    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (int seed = 0; seed < 40; seed++)
        {
            data.Add(seed);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_histories_keep_view_synchrony(int seed) => RunHistories(seed, agreedOnly: false);

    /// <summary>Secure groups' Flush mode: without the FLUSH_RECV round, the same guarantees (only AGREED and SAFE are sent).</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_agreed_only_histories_keep_view_synchrony(int seed) => RunHistories(seed + 1000, agreedOnly: true);

    /// <summary>The coordinator exchange (FLUSH_OK to the view's first member, ALL_FLUSHED from it): the same guarantees.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_coordinated_histories_keep_view_synchrony(int seed) => RunHistories(seed + 2000, agreedOnly: true, coordinated: true);

    [Fact]
    public void Coordinated_histories_unicast_every_flush_ok_and_drop_nothing_as_bad()
    {
        int views = 0, held = 0, unicasts = 0, announcements = 0, distinct = 0, handOvers = 0;
        long stale = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            var sim = new EvsSimulator(seed, processes: 4) { Coordinated = true };
            for (int step = 0; step < 400; step++)
            {
                sim.Step();
            }

            sim.Quiesce();
            views += sim.InstalledViews;
            held += sim.HeldSends;
            unicasts += sim.FlushOkUnicasts;
            handOvers += sim.CoordinatorHandOvers;
            announcements += sim.FlushOkMulticasts;
            distinct += sim.Procs.SelectMany(p => p.Views).Where(v => v.Id != default).Select(v => v.Id).Distinct().Count();
            Assert.Equal(0, sim.FlushRecvsSent);
            Assert.All(sim.Procs, p => Assert.Equal(0, p.Core.Coordination.Rejected));
            stale += sim.Procs.Sum(p => p.Core.Coordination.Stale);
        }

        // Each installed view costs one announcement (a cascade can make one that is never acted on).
        Assert.True(views > 100, $"only {views} views installed");
        Assert.True(distinct > 50 && announcements >= distinct, $"{announcements} ALL_FLUSHED for {distinct} installed views");
        Assert.True(held > 10, $"only {held} sends were held");
        Assert.True(unicasts > 100, $"only {unicasts} FLUSH_OKs unicast");
        Assert.True(stale > 0, "no cascade made a stale control message");
        Assert.True(handOvers > 5, $"only {handOvers} flushes moved to another coordinator mid-exchange");
    }

    [Fact]
    public void Agreed_only_histories_send_no_flush_recv_yet_hold_sends_and_install_network_views()
    {
        int views = 0, held = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            var sim = new EvsSimulator(seed, processes: 4) { AgreedOnly = true };
            for (int step = 0; step < 400; step++)
            {
                sim.Step();
            }

            sim.Quiesce();
            views += sim.InstalledViews;
            held += sim.HeldSends;
            Assert.Equal(0, sim.FlushRecvsSent);
        }

        Assert.True(views > 100, $"only {views} views installed");
        Assert.True(held > 10, $"only {held} sends were held");
    }

    private static void RunHistories(int seed, bool agreedOnly, bool coordinated = false)
    {
        for (int run = 0; run < 10; run++)
        {
            int runSeed = (seed * 10) + run;
            var sim = new EvsSimulator(runSeed, processes: 3 + (runSeed % 3)) { AgreedOnly = agreedOnly, Coordinated = coordinated };
            try
            {
                for (int step = 0; step < 400; step++)
                {
                    sim.Step();
                }

                sim.Quiesce();
                Check(sim);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"seed {runSeed}: {e}");
            }
            catch (Xunit.Sdk.XunitException e)
            {
                string dump = string.Join("\n", sim.Procs.Select(p => $"{p.Name} crashed={p.Crashed} phase={p.Core.Group(EvsSimulator.Group)?.Phase} leaving={p.Core.Group(EvsSimulator.Group)?.Leaving} due={p.FlushAnswerDue} state={p.Core.Group(EvsSimulator.Group)} comp={string.Join(",", p.Component.Members)}: {string.Join(" ", p.Trace.TakeLast(30))}"));
                Assert.Fail($"seed {runSeed}: {e.Message}\n{dump}\n{string.Join(" ", sim.Events.TakeLast(60))}");
            }
        }
    }

    [Fact]
    public void Histories_exercise_flushes_holds_and_network_views()
    {
        int views = 0, held = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            var sim = new EvsSimulator(seed, processes: 4);
            for (int step = 0; step < 400; step++)
            {
                sim.Step();
            }

            sim.Quiesce();
            views += sim.InstalledViews;
            held += sim.HeldSends;
            Assert.True(sim.FlushRecvsSent > 0, $"seed {seed}: no FLUSH_RECV sent");
        }

        Assert.True(views > 100, $"only {views} views installed");
        Assert.True(held > 10, $"only {held} sends were held");
    }

    private static void Check(EvsSimulator sim)
    {
        // Same view id, same members.
        var members = new Dictionary<GroupId, string>();
        foreach (EvsSimulator.Proc p in sim.Procs)
        {
            foreach (EvsSimulator.ViewRecord v in p.Views.Where(v => v.Id != default))
            {
                string list = string.Join(",", v.Members);
                Assert.True(members.TryAdd(v.Id, list) || members[v.Id] == list, $"view {v.Id}: members differ: {members[v.Id]} vs {list}");
                Assert.Contains(p.Name, v.Members);
            }
        }

        // View synchrony: processes moving together from V to V' delivered the same messages in V.
        var moved = new Dictionary<(GroupId, GroupId), (string Who, HashSet<(int, int)> Set, EvsSimulator.ViewRecord Before, EvsSimulator.ViewRecord After)>();
        foreach (EvsSimulator.Proc p in sim.Procs)
        {
            for (int i = 1; i < p.Views.Count; i++)
            {
                EvsSimulator.ViewRecord before = p.Views[i - 1], after = p.Views[i];
                if (after.Id == default || before.Id == default)
                {
                    continue;
                }

                if (moved.TryGetValue((before.Id, after.Id), out var other))
                {
                    Assert.True(
                        other.Set.SetEquals(before.Delivered),
                        $"{p.Name} and {other.Who} moved from {before.Id} to {after.Id} but delivered {before.Delivered.Count} vs {other.Set.Count} messages in {before.Id}");
                    Assert.True(
                        other.After.VsSet.SequenceEqual(after.VsSet) && other.Before.Transitional == before.Transitional,
                        $"{p.Name} and {other.Who} moved from {before.Id} to {after.Id} with vs-sets [{string.Join(",", after.VsSet)}] vs [{string.Join(",", other.After.VsSet)}], transitional {before.Transitional} vs {other.Before.Transitional}");
                }
                else
                {
                    moved.Add((before.Id, after.Id), (p.Name, before.Delivered, before, after));
                }

                // A process delivers its own messages in the view it sent them in.
                foreach (var sent in p.Sent.Where(s => s.View == before.Id))
                {
                    Assert.Contains(sent.Id, before.Delivered);
                }
            }
        }

        // Liveness: once changes stop, every live member ends in the component's view.
        foreach (EvsSimulator.Proc p in sim.Procs.Where(p => !p.Crashed && p.Component.Members.Contains(p.Name)))
        {
            string expected = string.Join(",", p.Component.Members.Order(StringComparer.Ordinal));
            Assert.True(p.Views.Count > 0 && p.Views[^1].Id != default, $"{p.Name} has no view; trace {string.Join(" ", p.Trace.TakeLast(40))}");
            Assert.Equal(expected, string.Join(",", p.Views[^1].Members));
            Assert.Equal(Client.Flush.Internal.FlushPhase.Steady, p.Core.Group(EvsSimulator.Group)!.Phase);
        }
    }
}
