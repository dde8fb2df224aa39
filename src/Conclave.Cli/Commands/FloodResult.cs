using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace Conclave.Cli.Commands;

/// <summary>The figures of one `conclave flood` run.</summary>
internal sealed record FloodResult(
    string Spread,
    string Service,
    string Group,
    int MessagesPerSender,
    int Size,
    int Senders,
    int Receivers,
    int Window,
    double ElapsedSeconds,
    double MessagesPerSecond,
    double MegabytesPerSecond,
    double DeliveriesPerSecond,
    long RoundTripSamples,
    double RoundTripP50Microseconds,
    double RoundTripP90Microseconds,
    double RoundTripP99Microseconds,
    double RoundTripMaxMicroseconds)
{
    public string ToText()
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"conclave flood: {Senders} sender(s) x {MessagesPerSender:N0} messages of {Size:N0} B, {Service}, group '{Group}', via {Spread}; {Receivers} extra receiver(s), window {Window}");
        text.AppendLine(c, $"  elapsed {ElapsedSeconds:F3} s (until every session had every message)");
        text.AppendLine(c, $"  sent      {MessagesPerSecond,12:N0} msg/s  {MegabytesPerSecond,9:F1} MB/s");
        text.AppendLine(c, $"  delivered {DeliveriesPerSecond,12:N0} msg/s  ({Senders + Receivers} sessions each get every message)");
        text.Append(c, $"  round trip to self, µs: p50 {RoundTripP50Microseconds:F1}  p90 {RoundTripP90Microseconds:F1}  p99 {RoundTripP99Microseconds:F1}  max {RoundTripMaxMicroseconds:F1}  ({RoundTripSamples:N0} samples)");
        return text.ToString();
    }
}

/// <summary>Source-generated JSON for <see cref="FloodResult"/>.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(FloodResult))]
internal sealed partial class FloodJson : JsonSerializerContext;
