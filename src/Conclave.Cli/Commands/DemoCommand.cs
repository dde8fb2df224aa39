using System.CommandLine;
using System.Text;
using Conclave.Client.Secure;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;

namespace Conclave.Cli.Commands;

/// <summary>
/// `conclave demo`: a self-contained tour of the secure layer. Starts three in-process daemons and secure members
/// on them, then goes through joins, a leave, a partition (a daemon stops), a merge (it comes back and its members
/// rejoin) and a key refresh, printing every member's key fingerprint after each step and whether they agree.
/// </summary>
internal static class DemoCommand
{
    private const string Group = "demo";

    public static Command Create()
    {
        var protocol = new Option<string>("--protocol", "-p") { Description = "Key agreement module: gdh, ckd or tgdh.", DefaultValueFactory = _ => "tgdh" };
        var aead = new Option<string>("--aead") { Description = "Message encryption: aes (AES-256-GCM) or chacha (ChaCha20-Poly1305).", DefaultValueFactory = _ => "aes" };
        var timeout = new Option<int>("--step-timeout") { Description = "Seconds each step may take to converge.", DefaultValueFactory = _ => 30 };
        var command = new Command("demo", "A tour of secure groups: three in-process daemons, secure members, joins, a leave, a partition, a merge and a refresh, with each key's fingerprint.")
        {
            protocol, aead, timeout,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            if (!SecureChoices.TryParseProtocol(parse.GetValue(protocol)!, out KeyAgreementProtocol p) || !SecureChoices.TryParseAead(parse.GetValue(aead)!, out SecureAead a))
            {
                await Console.Error.WriteLineAsync("conclave demo: --protocol is gdh, ckd or tgdh; --aead is aes or chacha.");
                return 2;
            }

            var tour = new DemoTour(p, a, TimeSpan.FromSeconds(parse.GetValue(timeout)), Console.Out);
            return await tour.RunAsync(cancellation) ? 0 : 1;
        });
        return command;
    }

    /// <summary>The tour's steps and its bookkeeping.</summary>
    private sealed class DemoTour(KeyAgreementProtocol protocol, SecureAead aead, TimeSpan stepTimeout, TextWriter output)
    {
        private readonly Dictionary<string, MemberIdentity> _identities = [];
        private readonly MemberDirectory _directory = new();
        private readonly List<DemoMember> _members = [];
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<bool> RunAsync(CancellationToken cancellationToken)
        {
            (string Name, int Daemon)[] cast = [("alice", 0), ("bob", 1), ("carol", 2), ("dave", 2)];
            foreach ((string name, int daemon) in cast)
            {
                var identity = MemberIdentity.Generate();
                _identities[name] = identity;
                _directory.Add($"#{name}#d{daemon + 1}", identity.PublicKey);
            }

            await output.WriteLineAsync($"conclave demo: secure group '{Group}', module {protocol}, {aead}, over 3 in-process daemons (d1 d2 d3)");
            await using (DemoRing ring = new(3))
            {
                try
                {
                    await ring.WaitForRingAsync(cancellationToken).WaitAsync(stepTimeout, cancellationToken);
                    bool ok = true;

                    await output.WriteLineAsync("step 1: alice@d1, bob@d2 and carol@d3 join");
                    foreach ((string name, int daemon) in cast[..3])
                    {
                        await JoinAsync(ring, name, daemon, cancellationToken);
                    }

                    ok &= await ConvergedAsync(["alice", "bob", "carol"], cancellationToken);

                    await output.WriteLineAsync("step 2: dave@d3 joins");
                    await JoinAsync(ring, "dave", 2, cancellationToken);
                    ok &= await ConvergedAsync(["alice", "bob", "carol", "dave"], cancellationToken);

                    await output.WriteLineAsync("step 3: bob leaves");
                    DemoMember bob = Member("bob");
                    await bob.Connection.LeaveAsync(Group, cancellationToken);
                    ok &= await ConvergedAsync(["alice", "carol", "dave"], cancellationToken);
                    await _members.Find(m => m.Name == "alice")!.Connection.SendAsync(Group, 1, Encoding.UTF8.GetBytes("sealed hello"), cancellationToken);
                    await UntilAsync(() => Member("carol").Received.Contains("sealed hello") && Member("dave").Received.Contains("sealed hello"), cancellationToken);
                    await output.WriteLineAsync($"  'sealed hello' from alice reached carol and dave; bob (gone) got {(bob.Received.Contains("sealed hello") ? "it: WRONG" : "nothing")}");

                    await output.WriteLineAsync("step 4: partition: daemon d3 stops; carol and dave are cut off");
                    await ring.StopAsync(2);
                    ok &= await ConvergedAsync(["alice"], cancellationToken);
                    await DropAsync("carol");
                    await DropAsync("dave");

                    await output.WriteLineAsync("step 5: merge: d3 restarts and merges back into the ring; carol and dave reconnect there and rejoin");
                    ring.Start(2);
                    await JoinAsync(ring, "carol", 2, cancellationToken);
                    await JoinAsync(ring, "dave", 2, cancellationToken);
                    ok &= await ConvergedAsync(["alice", "carol", "dave"], cancellationToken);

                    await output.WriteLineAsync("step 6: carol asks for a key refresh");
                    string before = Member("alice").Fingerprint;
                    await UntilAsync(() => Member("carol").Connection.RequestRefresh(Group), cancellationToken);
                    await UntilAsync(() => Member("alice").Fingerprint != before, cancellationToken);
                    ok &= await ConvergedAsync(["alice", "carol", "dave"], cancellationToken);

                    await output.WriteLineAsync(ok ? "demo: every step converged to one key per view" : "demo: some step did NOT converge");
                    return ok;
                }
                catch (TimeoutException e)
                {
                    await output.WriteLineAsync($"demo: a step did not finish in time ({e.Message})");
                    return false;
                }
                finally
                {
                    foreach (DemoMember m in _members)
                    {
                        await m.DisposeAsync();
                    }

                    foreach (MemberIdentity identity in _identities.Values)
                    {
                        identity.Dispose();
                    }
                }
            }
        }

        private DemoMember Member(string name) => _members.Find(m => m.Name == name)!;

        private async Task JoinAsync(DemoRing ring, string name, int daemon, CancellationToken cancellationToken)
        {
            var options = new SecureGroupOptions { Protocol = protocol, Aead = aead, Identity = _identities[name], Directory = _directory };
            DemoMember member = await DemoMember.JoinAsync(ring.SpreadName(daemon), name, ring.Name(daemon), Group, options, Changed, cancellationToken);
            _members.Add(member);
        }

        private async Task DropAsync(string name)
        {
            DemoMember m = Member(name);
            _members.Remove(m);
            await m.DisposeAsync();
        }

        private void Changed() => Interlocked.Exchange(ref _changed, new(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();

        /// <summary>Waits until the listed members share one secure view of exactly themselves, then prints each one's key.</summary>
        private async Task<bool> ConvergedAsync(string[] names, CancellationToken cancellationToken)
        {
            DemoMember[] members = [.. names.Select(Member)];
            string[] privateGroups = [.. members.Select(m => m.Connection.PrivateGroup).Order(StringComparer.Ordinal)];
            await UntilAsync(
                () => members.All(m => m.View is SecureView v && v.Members.Order(StringComparer.Ordinal).SequenceEqual(privateGroups))
                    && members.Select(m => m.View!.Epoch).Distinct().Count() == 1,
                cancellationToken);
            foreach (DemoMember m in members)
            {
                SecureView v = m.View!;
                await output.WriteLineAsync($"  {m.Name,-6} @{m.Daemon}  key {m.Fingerprint}  epoch {v.Epoch}  {string.Join("+", v.Events)}  members {string.Join(" ", v.Members)}");
            }

            bool one = members.Select(m => m.Fingerprint).Distinct().Count() == 1;
            await output.WriteLineAsync(one ? $"  converged: {members.Length} member(s), one key {members[0].Fingerprint}" : "  NOT converged: the keys differ");
            return one;
        }

        private async Task UntilAsync(Func<bool> condition, CancellationToken cancellationToken)
        {
            using var step = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            step.CancelAfter(stepTimeout);
            while (true)
            {
                Task next = Volatile.Read(ref _changed).Task;
                if (condition())
                {
                    return;
                }

                try
                {
                    await next.WaitAsync(step.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException("no convergence within the step timeout");
                }
            }
        }
    }
}
