using System.CommandLine;
using System.Globalization;
using Conclave.Crypto;
using Conclave.Crypto.KeyAgreement;
using Conclave.Crypto.KeyAgreement.Simulation;

namespace Conclave.Cli.Commands;

/// <summary>
/// `conclave bench kx`: CPU time and exponentiation counts of join and leave for GDH, CKD and TGDH against group
/// size (pure computation in the deterministic simulator), written to docs/benchmarks-kx.md and docs/plots/kx-*.png.
/// </summary>
internal static class BenchKxCommand
{
    private static readonly int[] TgdhSizes = [2, 3, 4, 6, 8, 12, 16, 24, 32, 50, 64, 100, 128, 200, 256, 400, 512, 700, 1000];

    public static Command Create()
    {
        var protocols = new Option<string>("--protocols") { Description = "Comma-separated: gdh, ckd, tgdh.", DefaultValueFactory = _ => "gdh,ckd,tgdh" };
        var groups = new Option<string>("--groups") { Description = "Comma-separated: ristretto255, modp512, modp2048, modp3072.", DefaultValueFactory = _ => "ristretto255,modp512,modp2048" };
        var max = new Option<int>("--max") { Description = "Largest group for GDH and CKD on ristretto255 and modp512.", DefaultValueFactory = _ => 100 };
        var modpMax = new Option<int>("--modp-max") { Description = "Largest group for GDH and CKD on modp2048/3072.", DefaultValueFactory = _ => 16 };
        var tgdhMax = new Option<int>("--tgdh-max") { Description = "Largest group for TGDH (ristretto255, modp512).", DefaultValueFactory = _ => 1000 };
        var modpTgdhMax = new Option<int>("--modp-tgdh-max") { Description = "Largest group for TGDH on modp2048/3072.", DefaultValueFactory = _ => 64 };
        var tgdhRepeats = new Option<int>("--tgdh-repeats") { Description = "TGDH: times each join and leave is measured on identical trees; the table shows the median.", DefaultValueFactory = _ => 5 };
        var tgdhSizes = new Option<string?>("--tgdh-sizes") { Description = "TGDH: comma-separated group sizes to measure instead of the standard list up to the largest (e.g. 1000 for a quick check of the target)." };
        var quick = new Option<bool>("--quick") { Description = "A fast smoke run: --max 20 --modp-max 6 --tgdh-max 128 --modp-tgdh-max 16 --tgdh-repeats 1." };
        var output = new Option<DirectoryInfo>("--out") { Description = "The docs directory to write into.", DefaultValueFactory = _ => new DirectoryInfo("docs") };
        var command = new Command("kx", "Key agreement cost (join, leave) against group size: table and plots like the paper's Figure 4.")
        {
            protocols, groups, max, modpMax, tgdhMax, modpTgdhMax, tgdhRepeats, tgdhSizes, quick, output,
        };
        command.SetAction(parse =>
        {
            bool q = parse.GetValue(quick);
            if (parse.GetValue(tgdhRepeats) < 1)
            {
                Console.Error.WriteLine("conclave bench kx: --tgdh-repeats must be at least 1.");
                return 2;
            }

            int[]? sizes = null;
            if (parse.GetValue(tgdhSizes) is { } list)
            {
                sizes = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 2 ? n : -1).ToArray();
                if (sizes.Length == 0 || sizes.Contains(-1))
                {
                    Console.Error.WriteLine("conclave bench kx: --tgdh-sizes takes group sizes of 2 or more, comma-separated.");
                    return 2;
                }
            }

            var settings = new KxSettings(
                parse.GetValue(protocols)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(p => Enum.Parse<KeyAgreementProtocol>(p, ignoreCase: true)).ToList(),
                parse.GetValue(groups)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(DhGroup.FromName).ToList(),
                q ? 20 : parse.GetValue(max),
                q ? 6 : parse.GetValue(modpMax),
                q ? 128 : parse.GetValue(tgdhMax),
                q ? 16 : parse.GetValue(modpTgdhMax),
                q ? 1 : parse.GetValue(tgdhRepeats))
            {
                TgdhSizes = sizes,
            };
            return Run(settings, parse.GetValue(output)!, "conclave " + string.Join(' ', parse.Tokens.Select(t => t.Value)));
        });
        return command;
    }

    private static int Run(KxSettings settings, DirectoryInfo docs, string arguments)
    {
        var samples = new List<KxSample>();
        var started = DateTime.UtcNow;
        foreach (DhGroup group in settings.Groups)
        {
            foreach (KeyAgreementProtocol protocol in settings.Protocols)
            {
                int maxN = settings.MaxFor(protocol, group);
                int[]? only = protocol == KeyAgreementProtocol.Tgdh ? settings.TgdhSizes : null;
                if (only is not null)
                {
                    maxN = only.Max();
                }

                IEnumerable<KxSample> run = KxBenchmark.Run(
                    protocol, group, maxN, n => protocol != KeyAgreementProtocol.Tgdh || (only?.Contains(n) ?? (TgdhSizes.Contains(n) || n == maxN)), Progress, settings.TgdhRepeats);
                samples.AddRange(run);
            }
        }

        Console.Error.WriteLine();
        docs.Create();
        Directory.CreateDirectory(Path.Combine(docs.FullName, "plots"));
        List<string> plots = KxReport.Plot(samples, Path.Combine(docs.FullName, "plots"));
        string path = Path.Combine(docs.FullName, "benchmarks-kx.md");
        string? previous = File.Exists(path) ? File.ReadAllText(path) : null;

        // Exponentiation cost at the end of the run, in the same conditions: what the serial counts above cost now.
        var calibration = new Dictionary<string, (double, double)>();
        foreach (DhGroup group in settings.Groups)
        {
            calibration[group.Name] = KxBenchmark.Calibrate(group);
        }

        string load = File.Exists("/proc/loadavg") ? string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : string.Empty;
        File.WriteAllText(path, KxReport.Markdown(samples, plots, arguments, DateTime.UtcNow - started, previous, calibration, load));
        Console.WriteLine($"wrote {path} and {plots.Count} plots");
        foreach (string line in KxReport.Headline(samples))
        {
            Console.WriteLine(line);
        }

        foreach ((string group, (double exp, double expBase)) in calibration)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{group} now: exponentiation {exp:F1} µs, fixed-base {expBase:F1} µs (thread CPU, mean of 200 each); load average {load}"));
        }

        return 0;
    }

    private static void Progress(string what) =>
        Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{DateTime.Now:HH:mm:ss} {what,-60}"));
}

/// <summary>What `bench kx` measures.</summary>
internal sealed record KxSettings(
    IReadOnlyList<KeyAgreementProtocol> Protocols, IReadOnlyList<DhGroup> Groups, int Max, int ModpMax, int TgdhMax, int ModpTgdhMax, int TgdhRepeats)
{
    /// <summary>TGDH sizes to measure instead of the standard list (null: the standard list).</summary>
    public int[]? TgdhSizes { get; init; }

    public int MaxFor(KeyAgreementProtocol protocol, DhGroup group)
    {
        bool bigModp = group == DhGroup.Modp2048 || group == DhGroup.Modp3072;
        return protocol == KeyAgreementProtocol.Tgdh ? (bigModp ? ModpTgdhMax : TgdhMax) : (bigModp ? ModpMax : Max);
    }
}
