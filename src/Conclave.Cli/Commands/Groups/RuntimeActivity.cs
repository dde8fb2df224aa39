using System.Globalization;
using System.Runtime;

namespace Conclave.Cli.Commands.Groups;

/// <summary>
/// What the runtime did during a span: methods the JIT compiled and garbage collections of each generation. `--timeline`
/// prints it with each change, so a slow change can be told apart from one that overlapped compilation or a collection.
/// </summary>
internal readonly record struct RuntimeActivity(long JitMethods, int Gen0, int Gen1, int Gen2)
{
    public static RuntimeActivity Now() =>
        new(JitInfo.GetCompiledMethodCount(), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));

    public static RuntimeActivity operator -(RuntimeActivity after, RuntimeActivity before) =>
        new(after.JitMethods - before.JitMethods, after.Gen0 - before.Gen0, after.Gen1 - before.Gen1, after.Gen2 - before.Gen2);

    // GC.CollectionCount(n) counts every collection of generation n or higher: each generation's own is the difference.
    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"jit {JitMethods} methods, gc {Gen0 - Gen1}/{Gen1 - Gen2}/{Gen2} (gen0/1/2)");
}
