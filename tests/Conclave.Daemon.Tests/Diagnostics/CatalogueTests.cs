using System.Reflection;
using Conclave.Client.Diagnostics;
using Conclave.Daemon.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Conclave.Daemon.Tests.Diagnostics;

/// <summary>The log catalogues keep fixed, unique event ids, and docs/operations.md lists every event and metric.</summary>
public sealed class CatalogueTests
{
    private static readonly Assembly[] Libraries = [typeof(SpreadDaemon).Assembly, typeof(ClientMetricNames).Assembly, Assembly.Load("conclave")];

    private static IEnumerable<(Type Catalogue, MethodInfo Method, LoggerMessageAttribute Event)> Events(Assembly assembly) =>
        from type in assembly.GetTypes()
        from method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
        let attribute = method.GetCustomAttribute<LoggerMessageAttribute>()
        where attribute is not null
        select (type, method, attribute);

    private static string OperationsDoc()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "docs", "operations.md");
            if (File.Exists(path))
            {
                return File.ReadAllText(path);
            }
        }

        throw new FileNotFoundException("docs/operations.md above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Each_assembly_logs_through_LoggerMessage_catalogues_with_unique_ids_in_their_ranges()
    {
        var ranges = new Dictionary<string, (int From, int To)>
        {
            ["DaemonLog"] = (100, 499),
            ["ClientLog"] = (1000, 1099),
            ["CliLog"] = (2000, 2099),
        };
        var all = Libraries.SelectMany(Events).ToList();

        Assert.Superset(ranges.Keys.ToHashSet(), all.Select(e => e.Catalogue.Name).ToHashSet());
        Assert.Equal(all.Count, all.Select(e => e.Event.EventId).Distinct().Count());
        Assert.All(all.Where(e => ranges.ContainsKey(e.Catalogue.Name)), e => Assert.InRange(e.Event.EventId, ranges[e.Catalogue.Name].From, ranges[e.Catalogue.Name].To));
    }

    [Fact]
    public void Operations_doc_lists_every_log_event_with_its_level()
    {
        string doc = OperationsDoc();
        var events = Libraries.SelectMany(Events).ToList();
        Assert.True(events.Count >= 19, $"{events.Count} events found");
        Assert.All(events, e =>
            Assert.Contains($"| {e.Event.EventId} | {e.Event.Level} | {e.Method.Name} |", doc, StringComparison.Ordinal));
    }

    [Fact]
    public void Operations_doc_lists_every_metric()
    {
        string doc = OperationsDoc();
        List<string> names =
        [
            .. from type in new[] { typeof(DaemonMetricNames), typeof(ClientMetricNames) }
            from field in type.GetFields(BindingFlags.Public | BindingFlags.Static)
            where field.IsLiteral
            select (string)field.GetRawConstantValue()!,
        ];

        Assert.True(names.Count >= 30, $"{names.Count} names found");
        Assert.All(names, name => Assert.Contains($"`{name}`", doc, StringComparison.Ordinal));
    }
}
