using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Crypto.Tests.KeyAgreement;

/// <summary>
/// Serial exponentiation counts measured by the per-member counters along the longest causal chain, against the
/// formulas in docs/key-agreement.md (the paper's Tables 2–4 adjusted for signatures replacing long-term-key blinding).
/// </summary>
public sealed class CostTests
{
    private const int MaxMembers = 50;

    [Fact]
    public void Gdh_join_and_leave_serial_exponentiations_match_the_formulas()
    {
        Measure(KeyAgreementProtocol.Gdh, join: n => 2 * n, leave: n => n - 1, controllerLeave: n => n - 1);
    }

    [Fact]
    public void Ckd_join_and_leave_serial_exponentiations_match_the_formulas()
    {
        Measure(KeyAgreementProtocol.Ckd, join: n => n + 4, leave: n => n, controllerLeave: n => (2 * n) + 1);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(50)]
    [InlineData(100)]
    [InlineData(300)]
    public void Tgdh_join_and_leave_cost_grows_with_the_tree_height(int n)
    {
        using var sim = new Simulator(KeyAgreementProtocol.Tgdh, DhGroup.Ristretto255, n);
        List<string> members = Enumerable.Range(0, n).Select(_ => sim.Create().Name).ToList();
        int height = (int)Math.Ceiling(Math.Log2(n));

        // The sponsor's path (h blindings, h - 1 exponentiations, in one part; two if configured), then a member's node where its
        // path meets the sponsor's and the root, the keys between them taken from a sealed box (docs/key-agreement.md
        // §6.3, §7): 2h + 1, instead of 3h (5h/2 in two parts) when members recomputed the sponsor's keys.
        int bound = (2 * height) + 1;

        sim.DealTgdh(members[..^1]);
        sim.Install([members[^1]]);
        sim.Run();
        sim.ResetMeasurement();
        sim.Install(members);
        sim.Run();
        Checks.AllAgree(sim, $"join n={n}");
        // Join: the joiner's blinded key (1), then as a leave.
        long join = sim.SerialCost(members).Exps;
        Assert.True(join >= 2 && join <= bound + 1, $"TGDH join at n={n}: {join} serial exponentiations, bound {bound + 1}");

        sim.DealTgdh(members);
        members.RemoveAt(n / 2);
        sim.ResetMeasurement();
        sim.Install(members);
        sim.Run();
        Checks.AllAgree(sim, $"leave n={n}");
        long leave = sim.SerialCost(members).Exps;
        Assert.True(leave >= 1 && leave <= bound, $"TGDH leave at n={n}: {leave} serial exponentiations, bound {bound}");
    }

    internal static void Measure(KeyAgreementProtocol protocol, Func<int, long> join, Func<int, long> leave, Func<int, long> controllerLeave)
    {
        using var sim = new Simulator(protocol, DhGroup.Ristretto255, 5);
        List<string> members = [sim.Create().Name];
        sim.Install(members);
        sim.Run();
        for (int n = 2; n <= MaxMembers; n++)
        {
            members.Add(sim.Create().Name);
            sim.ResetMeasurement();
            sim.Install(members);
            sim.Run();
            Checks.AllAgree(sim, $"join n={n}");
            Assert.True(join(n) == sim.SerialCost(members).Exps, $"{protocol} join at n={n}: measured {sim.SerialCost(members).Exps}, formula {join(n)}");
        }

        // Leaves alternate between an ordinary member and the controller (newest for GDH, oldest for CKD).
        for (int n = MaxMembers; n >= 3; n--)
        {
            bool controller = n % 2 == 0;
            string leaver = controller ? ControllerOf(protocol, members) : members[n / 2];
            members.Remove(leaver);
            sim.ResetMeasurement();
            sim.Install(members);
            sim.Run();
            Checks.AllAgree(sim, $"leave n={n}");
            long expected = controller ? controllerLeave(n) : leave(n);
            Assert.True(expected == sim.SerialCost(members).Exps, $"{protocol} {(controller ? "controller " : "")}leave at n={n}: measured {sim.SerialCost(members).Exps}, formula {expected}");
        }
    }

    private static string ControllerOf(KeyAgreementProtocol protocol, List<string> members) =>
        protocol == KeyAgreementProtocol.Ckd ? members[0] : members[^1];
}
