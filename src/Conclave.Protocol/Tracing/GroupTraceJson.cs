using System.Globalization;
using System.Text.Json;
using Conclave.Protocol.Spread;

namespace Conclave.Protocol.Tracing;

/// <summary>The JSON keys of the group-layer trace events (docs/trace-format.md, additive to version 1).</summary>
internal static class GroupTraceJson
{
    public static void Write(Utf8JsonWriter w, TraceEvent e)
    {
        if (e.Client is not null) w.WriteString("c", e.Client);
        if (e.Group is not null) w.WriteString("g", e.Group);
        if (e.Kind is TraceKind.GroupView or TraceKind.GroupTransition)
        {
            w.WriteStartArray("gid");
            w.WriteNumberValue(e.GroupId.ProcId);
            w.WriteNumberValue(e.GroupId.Time);
            w.WriteNumberValue(e.GroupId.Index);
            w.WriteEndArray();
        }
        if (e.Kind == TraceKind.GroupView)
        {
            w.WriteString("cause", e.Cause);
            WriteNames(w, "names", e.Names);
            w.WriteStartArray("vs");
            foreach (string[] set in e.VsSets ?? []) WriteNames(w, null, set);
            w.WriteEndArray();
            w.WriteNumber("lvs", e.LocalVsSet);
        }
        if (e.Kind == TraceKind.GroupConf) WriteNames(w, "names", e.Names);
        if (e.Kind == TraceKind.GroupData)
        {
            w.WriteString("s", e.Sender);
            w.WriteString("h", e.PayloadHash.ToString("x16", CultureInfo.InvariantCulture));
            WriteNames(w, "gs", e.Groups);
            WriteNames(w, "to", e.Names);
        }
    }

    public static TraceEvent Read(JsonElement r, TraceEvent e)
    {
        e = e with
        {
            Client = r.TryGetProperty("c", out JsonElement c) ? c.GetString() : null,
            Group = r.TryGetProperty("g", out JsonElement g) ? g.GetString() : null,
        };
        if (r.TryGetProperty("gid", out JsonElement gid)) e = e with { GroupId = new GroupId(gid[0].GetInt32(), gid[1].GetInt32(), gid[2].GetInt32()) };
        if (e.Kind == TraceKind.GroupView)
        {
            e = e with
            {
                Cause = r.GetProperty("cause").GetString(),
                Names = ReadNames(r.GetProperty("names")),
                VsSets = [.. r.GetProperty("vs").EnumerateArray().Select(ReadNames)],
                LocalVsSet = r.GetProperty("lvs").GetInt32(),
            };
        }
        if (e.Kind == TraceKind.GroupConf) e = e with { Names = ReadNames(r.GetProperty("names")) };
        if (e.Kind == TraceKind.GroupData)
        {
            e = e with
            {
                Sender = r.GetProperty("s").GetString(),
                PayloadHash = ulong.Parse(r.GetProperty("h").GetString()!, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                Groups = ReadNames(r.GetProperty("gs")),
                Names = ReadNames(r.GetProperty("to")),
            };
        }
        return e;
    }

    private static void WriteNames(Utf8JsonWriter w, string? key, string[]? names)
    {
        if (key is null) w.WriteStartArray();
        else w.WriteStartArray(key);
        foreach (string n in names ?? []) w.WriteStringValue(n);
        w.WriteEndArray();
    }

    private static string[] ReadNames(JsonElement a) => [.. a.EnumerateArray().Select(x => x.GetString() ?? "")];
}
