using Conclave.Protocol.Ring;
using Conclave.Protocol.Ring.Wire;

namespace Conclave.Protocol.Simulation;

/// <summary>
/// The ten named regression scenarios of ring-protocol.md §6.3 (ring part; the group-layer
/// expectations of 7, 8 and 10 wait for the group layer). Each boots the daemons under load, runs its
/// fault script, heals everything at <see cref="HealAt"/> and settles, so P1–P12 are all checked.
/// </summary>
internal abstract class NamedScenario(string name, long healAt) : ISimScenario
{
    public string Name { get; } = name;
    public long HealAt { get; } = healAt;

    /// <summary>Facts the scenario observed, for its regression test's specific assertions.</summary>
    public Dictionary<string, long> Observed { get; } = [];

    public long Setup(Simulator sim)
    {
        sim.BootAll();
        sim.StartLoad(0);
        sim.LoadUntil = HealAt;
        Script(sim);
        sim.At(HealAt, sim.HealAll);
        return HealAt + sim.Config.SettleUs;
    }

    protected abstract void Script(Simulator sim);

    protected static bool Is(byte[] packet, RingMessageType type, out RingPacket parsed) =>
        RingPacket.TryParse(packet, out parsed) == RingParseError.None && parsed.Header.Type == type;

    /// <summary>Runs <paramref name="action"/> once, at the first poll (every 200 µs from <paramref name="from"/>) where <paramref name="condition"/> holds.</summary>
    protected static void When(Simulator sim, long from, long until, Func<bool> condition, Action action)
    {
        void Poll()
        {
            if (condition()) action();
            else if (sim.Now < until) sim.At(sim.Now + 200, Poll);
        }
        sim.At(from, Poll);
    }
}

internal static class NamedScenarios
{
    public static IReadOnlyList<ISimScenario> All => Create();

    public static IReadOnlyList<ISimScenario> Create() =>
    [
        new TokenLostDuringCommit(),
        new PartitionDuringRecovery(),
        new MergeWithMessagesInFlight(),
        new FlappingLink(),
        new HoleThenSenderLeaves(),
        new SafeStabilityAcrossChange(),
        new RestartBeforeDetection(keepRingSeq: true),
        new RestartBeforeDetection(keepRingSeq: false),
        new CascadingChange(),
        new OneWayLossFailToReceive(),
        new SimultaneousPartitionAndMerge(),
        new OneWayPathAfterMerge(),
    ];
}

/// <summary>1: the commit token is lost twice at the hop 3→4 and node 4 goes silent past the consensus timeout.</summary>
internal sealed class TokenLostDuringCommit() : NamedScenario("TokenLostDuringCommit", 3_000_000)
{
    protected override void Script(Simulator sim)
    {
        int dropped = 0;
        sim.At(1_000_000, () =>
        {
            sim.Pause(2, 300_000); // the token stops at 2: everyone gathers
            sim.DropHook = (from, to, packet) =>
            {
                if (from != 3 || to != 4 || dropped >= 2 || !Is(packet, RingMessageType.CommitToken, out RingPacket p)) return false;
                var ct = (CommitToken)p.Body;
                if (ct.MemberIndex >= ct.Members.Length) return false;
                if (dropped++ == 0)
                {
                    Observed["FailedRingSeq"] = (long)ct.NewRingId.Seq;
                    Observed["FailedRingRep"] = ct.NewRingId.Rep;
                    sim.Crash(4);
                    sim.At(sim.Now + 600_000, () => sim.Boot(4, keepRingSeq: true));
                }
                return true;
            };
        });
    }
}

/// <summary>2: rings {1,2} and {3,4,5} merge; during RECOVERY {4,5} are cut off.</summary>
internal sealed class PartitionDuringRecovery() : NamedScenario("PartitionDuringRecovery", 4_000_000)
{
    protected override void Script(Simulator sim)
    {
        sim.Partition([1, 2], [3, 4, 5]);
        sim.At(1_500_000, sim.HealNetwork);
        When(sim, 1_500_000, 3_000_000, () => sim.Machine(3) is { State: RingState.Recovery }, () =>
        {
            Observed["CutAt"] = sim.Now;
            sim.At(sim.Now + 2_000, () => sim.Partition([1, 2, 3], [4, 5]));
        });
    }
}

/// <summary>3: two rings under heavy agreed and safe load heal at the same moment.</summary>
internal sealed class MergeWithMessagesInFlight() : NamedScenario("MergeWithMessagesInFlight", 3_000_000)
{
    protected override void Script(Simulator sim)
    {
        sim.Loss = 0.05;
        sim.Partition([1, 2], [3, 4, 5]);
        sim.At(1_500_000, sim.HealNetwork);
    }
}

/// <summary>4: the links of node 2 flap with a period near token_timeout, then near consensus_timeout.</summary>
internal sealed class FlappingLink() : NamedScenario("FlappingLink", 14_000_000)
{
    protected override void Script(Simulator sim)
    {
        long t = 500_000;
        foreach (long period in new[] { sim.Config.Ring.TokenTimeoutUs, sim.Config.Ring.ConsensusTimeoutUs })
        {
            for (int cycle = 0; cycle < 25; cycle++)
            {
                sim.At(t, () => sim.Partition([2], [.. sim.NodeIds.Where(n => n != 2)]));
                sim.At(t + (period / 2), sim.HealNetwork);
                t += period;
            }
        }
    }
}

/// <summary>5: a message of node 3 reaches nobody else (a hole), later messages do, then 3 crashes.</summary>
internal sealed class HoleThenSenderLeaves() : NamedScenario("HoleThenSenderLeaves", 2_500_000)
{
    protected override void Script(Simulator sim)
    {
        ulong holeSeq = 0;
        sim.At(1_000_000, () =>
        {
            sim.DropHook = (from, to, packet) =>
            {
                if (!Is(packet, RingMessageType.Mcast, out RingPacket p)) return false;
                var m = (McastMessage)p.Body;
                if (m.Encapsulated || m.Originator != 3) return false;
                if (holeSeq == 0)
                {
                    holeSeq = m.Seq;
                    Observed["HoleSeq"] = (long)m.Seq;
                    Observed["HoleRingSeq"] = (long)m.Ring.Seq;
                    sim.At(sim.Now + 20_000, () => sim.Crash(3));
                }
                return m.Seq == holeSeq;
            };
        });
    }
}

/// <summary>6: safe-only load; node 5 crashes while safe messages are stable at some members only.</summary>
internal sealed class SafeStabilityAcrossChange() : NamedScenario("SafeStabilityAcrossChange", 3_000_000)
{
    protected override void Script(Simulator sim)
    {
        sim.At(1_000_000, () => sim.Crash(5));
        sim.At(1_700_000, () => sim.Boot(5, keepRingSeq: true));
        sim.At(2_200_000, () => sim.Crash(3));
    }
}

/// <summary>7: node 4 crashes and restarts within token_retransmit_timeout, with or without its persisted ring seq.</summary>
internal sealed class RestartBeforeDetection(bool keepRingSeq) : NamedScenario(keepRingSeq ? "RestartBeforeDetection" : "RestartBeforeDetection-NoSeq", 3_000_000)
{
    protected override void Script(Simulator sim)
    {
        sim.At(1_000_000, () => sim.Crash(4));
        sim.At(1_000_000 + (sim.Config.Ring.TokenRetransmitTimeoutUs / 2), () => sim.Boot(4, keepRingSeq));
    }
}

/// <summary>8 (ring part): a merge, and another daemon crashes before the new ring settles.</summary>
internal sealed class CascadingChange() : NamedScenario("CascadingChangeDuringGroupsExchange", 3_500_000)
{
    protected override void Script(Simulator sim)
    {
        sim.Partition([1, 2, 3], [4, 5]);
        sim.At(1_000_000, sim.HealNetwork);
        When(sim, 1_000_000, 2_500_000, () => sim.Machine(4) is { State: RingState.Operational, Members.Count: 5 }, () => sim.At(sim.Now + 1_000, () => sim.Crash(2)));
    }
}

/// <summary>
/// 9: node 3 receives no multicast while the token still reaches it. (Dropping only node 1's copies,
/// as §6.3 words it, is repaired by the other members' retransmissions and never stalls the aru.)
/// </summary>
internal sealed class OneWayLossFailToReceive() : NamedScenario("OneWayLossFailToReceive", 4_000_000)
{
    protected override void Script(Simulator sim)
    {
        sim.At(800_000, () => sim.DropHook = (from, to, packet) => to == 3 && Is(packet, RingMessageType.Mcast, out _));
    }
}

/// <summary>10: rings {1,2,3} and {4,5}; in one step connectivity becomes {1,2} | {3,4,5}.</summary>
internal sealed class SimultaneousPartitionAndMerge() : NamedScenario("SimultaneousPartitionAndMerge", 3_500_000)
{
    protected override void Script(Simulator sim)
    {
        sim.Partition([1, 2, 3], [4, 5]);
        sim.At(1_500_000, () => sim.Partition([1, 2], [3, 4, 5]));
    }
}

/// <summary>
/// Regression (the netns test's ring flap): node 3 is cut off; when the network heals, its path to
/// node 2 stays down one way for another 1.2 s, as after a link flap while the kernel re-resolves
/// the neighbour's address. Node 3 follows 2 in ring order, so it is the first holder of whatever 2
/// asks to have retransmitted; the ring must get those messages to 2 through another holder rather
/// than declare 2 failed to receive.
/// </summary>
internal sealed class OneWayPathAfterMerge() : NamedScenario("OneWayPathAfterMerge", 4_000_000)
{
    protected override void Script(Simulator sim)
    {
        sim.At(500_000, () => sim.Partition([3], [.. sim.NodeIds.Where(n => n != 3)]));
        sim.At(1_500_000, () =>
        {
            sim.HealNetwork();
            sim.SetLink(3, 2, false);
        });
        sim.At(2_700_000, () => sim.SetLink(3, 2, true));
    }
}
