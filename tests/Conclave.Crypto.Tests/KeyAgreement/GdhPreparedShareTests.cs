using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Crypto.Tests.KeyAgreement;

/// <summary>
/// A settled GDH controller prepares its next share between changes (SecureConnection runs the work on the thread
/// pool): the next join, leave or refresh then starts without the controller's n − 1 exponentiations. Prepared work
/// that has not finished, or that no longer fits, is never used.
/// </summary>
public sealed class GdhPreparedShareTests
{
    private const int MaxMembers = 20;

    [Fact]
    public void With_the_share_prepared_a_join_costs_the_joiners_n_and_one_more_serial_exponentiations_and_the_controllers_are_counted_as_prepared()
    {
        using var sim = new Simulator(KeyAgreementProtocol.Gdh, DhGroup.Ristretto255, 7) { Precompute = true };
        List<string> members = [sim.Create().Name];
        sim.Install(members);
        sim.Run();
        for (int n = 2; n <= MaxMembers; n++)
        {
            string controller = members[^1];
            long preparedBefore = sim[controller].Counter.PrecomputedExponentiations;
            members.Add(sim.Create().Name);
            sim.ResetMeasurement();
            sim.Install(members);
            sim.Run();
            Checks.AllAgree(sim, $"join n={n}");
            // From n = 3 the controller settled in a group of two or more, so its share was prepared: its hand-off
            // (n − 2 updated partial keys and the cardinal value) is off the chain. Before that it is computed as usual.
            long expected = n >= 3 ? n + 1 : 2 * n;
            Assert.True(expected == sim.SerialCost(members).Exps, $"join at n={n}: measured {sim.SerialCost(members).Exps} serial exponentiations, expected {expected}");
            Assert.Equal(n >= 3 ? n - 1 : 0, sim[controller].Counter.PrecomputedExponentiations - preparedBefore);
        }
    }

    [Fact]
    public void With_the_share_prepared_a_member_leaving_costs_one_serial_exponentiation()
    {
        using var sim = new Simulator(KeyAgreementProtocol.Gdh, DhGroup.Ristretto255, 8) { Precompute = true };
        List<string> members = Grow(sim, MaxMembers);

        while (members.Count > 3)
        {
            members.RemoveAt(members.Count / 2);
            sim.ResetMeasurement();
            sim.Install(members);
            sim.Run();
            Checks.AllAgree(sim, $"leave to n={members.Count}");
            Assert.Equal(1, sim.SerialCost(members).Exps);
        }
    }

    [Fact]
    public void Prepared_work_that_never_finished_is_not_used_and_the_change_costs_what_it_costs_without_it()
    {
        using var sim = new Simulator(KeyAgreementProtocol.Gdh, DhGroup.Ristretto255, 9) { Precompute = true, PrecomputeNeverFinishes = true };
        List<string> members = [sim.Create().Name];
        sim.Install(members);
        sim.Run();
        for (int n = 2; n <= 8; n++)
        {
            members.Add(sim.Create().Name);
            sim.ResetMeasurement();
            sim.Install(members);
            sim.Run();
            Checks.AllAgree(sim, $"join n={n}");
            Assert.Equal(2 * n, sim.SerialCost(members).Exps);
            Assert.All(members, m => Assert.Equal(0, sim[m].Counter.PrecomputedExponentiations));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_prepared_share_goes_into_one_run_only_and_unfinished_work_is_erased_not_used(bool finishes)
    {
        using var sim = new Simulator(KeyAgreementProtocol.Gdh, DhGroup.Ristretto255, 10) { Precompute = true, PrecomputeNeverFinishes = !finishes };
        List<string> members = Grow(sim, 6);

        // Three leaves of other members: the controller (the newest) stays, and each re-key may take its prepared share.
        string last = members[^1];
        var controller = (GdhModule)sim[last].Module;
        var committed = new List<byte[]> { controller.CommittedShare!.ToArray() };
        for (int i = 0; i < 3; i++)
        {
            byte[] prepared = controller.PreparedShare!;
            byte[] preparedCopy = prepared.ToArray();
            members.RemoveAt(1);
            sim.Install(members);
            sim.Run();
            Checks.AllAgree(sim, $"leave {i}");
            Assert.Equal(last, members[^1]);
            byte[] now = controller.CommittedShare!.ToArray();
            Assert.DoesNotContain(committed, c => c.AsSpan().SequenceEqual(now));
            committed.Add(now);
            if (finishes)
            {
                // Used for this run: it is the new committed share, and a fresh one is prepared for the next.
                Assert.True(now.AsSpan().SequenceEqual(preparedCopy), $"leave {i}: the prepared share was not used");
                Assert.False(controller.PreparedShare!.AsSpan().SequenceEqual(preparedCopy), $"leave {i}: the same share prepared again");
            }
            else
            {
                // Never finished: not used, and zeroed so that it can reach no later message.
                Assert.False(now.AsSpan().SequenceEqual(preparedCopy), $"leave {i}: unfinished work was used");
                Assert.True(prepared.All(b => b == 0), $"leave {i}: unused prepared share not erased");
            }
        }
    }

    /// <summary>
    /// A refresh heals a compromise of the controller's memory, so it draws its share when it runs: a share prepared
    /// earlier was in that memory too. The prepared one is erased when the refresh commits, and a new one prepared.
    /// </summary>
    [Fact]
    public void A_refresh_draws_a_fresh_share_and_never_takes_the_prepared_one()
    {
        using var sim = new Simulator(KeyAgreementProtocol.Gdh, DhGroup.Ristretto255, 12) { Precompute = true };
        List<string> members = Grow(sim, 5);

        var controller = (GdhModule)sim[members[^1]].Module;
        for (int i = 0; i < 2; i++)
        {
            byte[] prepared = controller.PreparedShare!;
            byte[] preparedCopy = prepared.ToArray();
            long preparedBefore = sim[members[^1]].Counter.PrecomputedExponentiations;
            Assert.Equal(Rejection.None, sim.Refresh(members[^1]).Rejection);
            sim.Run();
            Checks.AllAgree(sim, $"refresh {i}");
            Assert.False(controller.CommittedShare!.AsSpan().SequenceEqual(preparedCopy), $"refresh {i}: took the prepared share");
            Assert.True(prepared.All(b => b == 0), $"refresh {i}: the prepared share outlived the state it was made for");
            Assert.Equal(preparedBefore, sim[members[^1]].Counter.PrecomputedExponentiations);
            Assert.NotNull(controller.PreparedShare);
        }
    }

    /// <summary>
    /// The ratio N̂·N⁻¹ is as secret as a share (with it, a departed member raises the old group element to the new one,
    /// and a joiner lowers the cardinal value to the old one): the computed path erases it at once, and so must the
    /// prepared one. A leave's or refresh's prepared cardinal value is the controller's own new group element, which
    /// Finish erases in its own copy.
    /// </summary>
    [Fact]
    public void A_used_prepared_share_leaves_neither_its_ratio_nor_a_copy_of_the_group_element_behind()
    {
        using var sim = new Simulator(KeyAgreementProtocol.Gdh, DhGroup.Ristretto255, 11) { Precompute = true };
        List<string> members = Grow(sim, 6);

        var controller = (GdhModule)sim[members[^1]].Module;
        GdhNextShare leaveWork = controller.PreparedWork!;
        members.RemoveAt(2);
        sim.Install(members);
        sim.Run();
        Checks.AllAgree(sim, "leave");
        Assert.Same(leaveWork.Share, controller.CommittedShare);
        Assert.True(leaveWork.Ratio.All(b => b == 0), "leave: the prepared ratio was not erased");
        Assert.True(leaveWork.Cardinal.All(b => b == 0), "leave: the prepared copy of the new group element was not erased");

        GdhNextShare joinWork = controller.PreparedWork!;
        members.Add(sim.Create().Name);
        sim.Install(members);
        sim.Run();
        Checks.AllAgree(sim, "join");
        Assert.Same(joinWork.Share, controller.CommittedShare);
        Assert.True(joinWork.Ratio.All(b => b == 0), "join: the prepared ratio was not erased");
    }

    /// <summary>A group of <paramref name="count"/> new members grown one join at a time, each change run to its key.</summary>
    private static List<string> Grow(Simulator sim, int count)
    {
        List<string> members = [.. Enumerable.Range(0, count).Select(_ => sim.Create().Name)];
        for (int n = 1; n <= count; n++)
        {
            sim.Install(members[..n]);
            sim.Run();
        }

        return members;
    }
}
