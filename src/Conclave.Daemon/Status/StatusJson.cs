using System.Text.Json.Serialization;

namespace Conclave.Daemon.Status;

/// <summary>The JSON of a <see cref="DaemonStatusReport"/> (camelCase, source generated).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(DaemonStatusReport))]
[JsonSerializable(typeof(DaemonStatusReport[]))]
public sealed partial class StatusJson : JsonSerializerContext;
