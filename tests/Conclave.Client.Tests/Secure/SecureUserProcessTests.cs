using System.Diagnostics;
using Conclave.Client.Tests.EndToEnd;
using Conclave.Crypto;

namespace Conclave.Client.Tests.Secure;

/// <summary>`conclave user --secure` as two processes against the in-process daemon: same key, sealed chat, refresh.</summary>
public sealed class SecureUserProcessTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("conclave-secure-user-").FullName;
    private InProcessDaemon _daemon = null!;

    public Task InitializeAsync()
    {
        _daemon = InProcessDaemon.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Two_secure_users_agree_on_a_key_chat_and_refresh()
    {
        string trust = Path.Combine(_dir, "trust");
        var lines = new List<string> { "; who may hold the key" };
        foreach (string name in new[] { "alice", "bob" })
        {
            using var identity = MemberIdentity.Generate();
            MemberKeyFile.Write(Path.Combine(_dir, name + ".key"), identity, overwrite: false);
            lines.Add($"#{name}#localhost {Convert.ToBase64String(identity.PublicKey)}");
        }

        await File.WriteAllLinesAsync(trust, lines);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        await using var alice = UserProcess.Start(Args("alice", trust), timeout.Token);
        await using var bob = UserProcess.Start(Args("bob", trust), timeout.Token);

        await alice.SendAsync("j chat");
        await alice.WaitForAsync(l => l.Contains("SECURE VIEW for chat") && l.EndsWith("members #alice#localhost", StringComparison.Ordinal));
        await bob.SendAsync("j chat");
        string aliceView = await alice.WaitForAsync(l => l.Contains("SECURE VIEW for chat") && l.Contains("#bob#localhost"));
        string bobView = await bob.WaitForAsync(l => l.Contains("SECURE VIEW for chat") && l.Contains("#alice#localhost"));
        Assert.Equal(Key(aliceView), Key(bobView));

        await alice.SendAsync("s chat hello bob");
        await bob.WaitForAsync(l => l.Contains("message from #alice#localhost, secure group chat") && l.EndsWith("hello bob", StringComparison.Ordinal));

        await bob.SendAsync("k chat");
        string refreshed = await alice.WaitForAsync(l => l.Contains("(Refresh)"));
        Assert.NotEqual(Key(aliceView), Key(refreshed));
        await alice.SendAsync("q");
        await bob.SendAsync("q");
    }

    [Fact]
    public async Task A_member_missing_from_its_own_trust_file_is_told_so()
    {
        using var identity = MemberIdentity.Generate();
        MemberKeyFile.Write(Path.Combine(_dir, "eve.key"), identity, overwrite: false);
        string trust = Path.Combine(_dir, "trust-without-eve");
        await File.WriteAllTextAsync(trust, "; nobody\n");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await using var eve = UserProcess.Start(Args("eve", trust), timeout.Token);
        await eve.WaitForExitAsync();
        Assert.Equal(2, eve.ExitCode);
        Assert.Contains("the trust file must list this member", eve.Errors, StringComparison.Ordinal);
    }

    private static string Key(string viewLine) => viewLine.Split("key ")[1][..16];

    private string Args(string name, string trust) =>
        $"user -u {name} -s {_daemon.TcpSpreadName} --secure gdh --member-key {Path.Combine(_dir, name + ".key")} --trust {trust}";

    /// <summary>A `conclave user` child process whose output lines are collected and waited on.</summary>
    private sealed class UserProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly CancellationToken _cancellationToken;
        private readonly List<string> _lines = [];
        private readonly Task _reading;
        private readonly Task<string> _errors;
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private UserProcess(Process process, CancellationToken cancellationToken)
        {
            _process = process;
            _cancellationToken = cancellationToken;
            _reading = ReadAsync();
            _errors = process.StandardError.ReadToEndAsync(cancellationToken);
        }

        public int ExitCode => _process.ExitCode;

        public string Errors => _errors.IsCompletedSuccessfully ? _errors.Result : string.Empty;

        public static UserProcess Start(string arguments, CancellationToken cancellationToken)
        {
            var start = new ProcessStartInfo("dotnet", $"{Path.Combine(AppContext.BaseDirectory, "conclave.dll")} {arguments}")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            return new UserProcess(Process.Start(start)!, cancellationToken);
        }

        public async Task SendAsync(string line)
        {
            await _process.StandardInput.WriteLineAsync(line);
            await _process.StandardInput.FlushAsync(_cancellationToken);
        }

        public async Task<string> WaitForAsync(Func<string, bool> match)
        {
            while (true)
            {
                Task next;
                lock (_lines)
                {
                    next = _next.Task;
                    if (_lines.FirstOrDefault(match) is string found)
                    {
                        _lines.Remove(found);
                        return found;
                    }
                }

                try
                {
                    await next.WaitAsync(_cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    lock (_lines)
                    {
                        throw new TimeoutException($"no matching line; unmatched output: {string.Join(" | ", _lines)}; errors: {Errors}");
                    }
                }
            }
        }

        public async Task WaitForExitAsync()
        {
            await _process.WaitForExitAsync(_cancellationToken);
            await _errors;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await _process.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                }
            }

            await _reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _process.Dispose();
        }

        private async Task ReadAsync()
        {
            while (await _process.StandardOutput.ReadLineAsync(_cancellationToken) is string line)
            {
                lock (_lines)
                {
                    _lines.Add(line);
                    Interlocked.Exchange(ref _next, new(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();
                }
            }

            lock (_lines)
            {
                _next.TrySetResult();
            }
        }
    }
}
