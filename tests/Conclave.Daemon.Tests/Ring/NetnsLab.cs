using System.Diagnostics;

namespace Conclave.Daemon.Tests.Ring;

/// <summary>
/// Three network namespaces (10.77.0.1–3 on eth0) joined by a bridge that lives in a fourth
/// namespace, as in ../shared/bench/corosync/netns-3node.sh. Names carry the process id and a
/// per-process lab number, so concurrent labs (several test classes at once, several runs at once)
/// never collide; the subnet exists only inside the namespaces. Cutting node i's
/// bridge port drops its UDP both ways. Needs root and iproute2; <see cref="Unavailable"/> says why not.
/// </summary>
internal sealed class NetnsLab : IDisposable
{
    private static int s_labs;
    private readonly List<string> _created = [];

    private NetnsLab(string prefix) => Prefix = prefix;

    public string Prefix { get; }

    private string Bridge => $"{Prefix}br";

    /// <summary>The namespace of node <paramref name="i"/> (1-based).</summary>
    public string Node(int i) => $"{Prefix}n{i}";

    /// <summary>The address of node <paramref name="i"/> inside the namespaces.</summary>
    public static string Address(int i) => $"10.77.0.{i}";

    /// <summary>Why namespaces cannot be used here, or null when they can.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return "network namespaces need root (the test runs as an unprivileged user)";
        }

        (int status, string output) = Run("ip", "netns", "list");
        return status == 0 ? null : $"'ip netns' is unavailable: {output.Trim()}";
    }

    /// <summary>Creates the namespaces, veth pairs and bridge; deletes what it made if a step fails.</summary>
    public static NetnsLab Create(int nodes)
    {
        // A random suffix collided (1 in 100) when two test classes made labs at the same time.
        var lab = new NetnsLab($"cv{Environment.ProcessId}l{Interlocked.Increment(ref s_labs)}");
        try
        {
            lab.AddNamespace(lab.Bridge);
            lab.Ip("-n", lab.Bridge, "link", "add", "br0", "type", "bridge");
            lab.Ip("-n", lab.Bridge, "link", "set", "br0", "up");
            for (int i = 1; i <= nodes; i++)
            {
                string ns = lab.Node(i);
                lab.AddNamespace(ns);
                lab.Ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", $"vb{i}", "netns", lab.Bridge);
                lab.Ip("-n", ns, "addr", "add", $"{Address(i)}/24", "dev", "eth0");
                lab.Ip("-n", ns, "link", "set", "eth0", "up");
                lab.Ip("-n", lab.Bridge, "link", "set", $"vb{i}", "master", "br0");
                lab.Ip("-n", lab.Bridge, "link", "set", $"vb{i}", "up");
            }
        }
        catch
        {
            lab.Dispose();
            throw;
        }

        return lab;
    }

    /// <summary>Takes node <paramref name="i"/>'s bridge port down: its packets go nowhere, both ways.</summary>
    public void Cut(int i) => Ip("-n", Bridge, "link", "set", $"vb{i}", "down");

    /// <summary>Brings node <paramref name="i"/>'s bridge port back.</summary>
    public void Restore(int i) => Ip("-n", Bridge, "link", "set", $"vb{i}", "up");

    /// <summary>Deletes every namespace this lab made (the daemons in them must have exited).</summary>
    public void Dispose()
    {
        foreach (string ns in _created)
        {
            Run("ip", "netns", "del", ns);
        }

        _created.Clear();
    }

    private void AddNamespace(string ns)
    {
        Ip("netns", "add", ns);
        _created.Add(ns);
        Ip("-n", ns, "link", "set", "lo", "up");
    }

    private void Ip(params string[] arguments)
    {
        (int status, string output) = Run("ip", arguments);
        if (status != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed ({status}): {output.Trim()}");
        }
    }

    private static (int Status, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using Process process = Process.Start(start)!;
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout.Result + stderr);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, ex.Message);
        }
    }
}
