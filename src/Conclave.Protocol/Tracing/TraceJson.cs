using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Conclave.Protocol.Ring;

namespace Conclave.Protocol.Tracing;

/// <summary>
/// The JSON-lines trace encoding of docs/trace-format.md (version 1): one object per event.
/// <see cref="TryParse"/> returns false instead of throwing on a malformed line.
/// </summary>
public static class TraceJson
{
    /// <summary>Formats one event as a single JSON line (no trailing newline).</summary>
    public static string Format(TraceEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("t", e.TimeUs);
            w.WriteString("k", e.Kind.ToString().ToLowerInvariant());
            w.WriteNumber("n", e.Node);
            w.WriteNumber("i", e.Incarnation);
            if (e.Kind is TraceKind.Send or TraceKind.Deliver or TraceKind.GroupDigest)
            {
                w.WriteStartArray("m");
                w.WriteNumberValue(e.Message.Node);
                w.WriteNumberValue(e.Message.Incarnation);
                w.WriteNumberValue(e.Message.Counter);
                w.WriteEndArray();
                w.WriteString("svc", e.Service.ToString().ToLowerInvariant());
                w.WriteString("h", e.PayloadHash.ToString("x16", CultureInfo.InvariantCulture));
            }
            if (e.Kind is TraceKind.Conf or TraceKind.Deliver or TraceKind.GroupDigest or TraceKind.GroupConf)
            {
                w.WriteStartObject("conf");
                w.WriteString("kind", e.Conf.Kind == ConfKind.Regular ? "reg" : "trans");
                WriteRing(w, "ring", e.Conf.Ring);
                if (e.Conf.Kind == ConfKind.Transitional) WriteRing(w, "old", e.Conf.Old);
                w.WriteEndObject();
            }
            if (e.Kind == TraceKind.Conf)
            {
                w.WriteStartArray("members");
                foreach (uint m in e.Members ?? []) w.WriteNumberValue(m);
                w.WriteEndArray();
            }
            if (e.Kind == TraceKind.Deliver)
            {
                WriteRing(w, "ring", e.Ring);
                w.WriteNumber("seq", e.Seq);
            }
            if (e.Kind >= TraceKind.GroupView) GroupTraceJson.Write(w, e);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteRing(Utf8JsonWriter w, string name, RingId ring)
    {
        w.WriteStartArray(name);
        w.WriteNumberValue(ring.Rep);
        w.WriteNumberValue(ring.Seq);
        w.WriteEndArray();
    }

    /// <summary>Writes a whole trace, one line per event.</summary>
    public static void Write(TextWriter writer, IEnumerable<TraceEvent> events)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(events);
        foreach (TraceEvent e in events) writer.WriteLine(Format(e));
    }

    /// <summary>Parses one line; false if it is not a valid version-1 event.</summary>
    public static bool TryParse(string line, out TraceEvent? e)
    {
        e = null;
        try
        {
            using var doc = JsonDocument.Parse(line);
            JsonElement r = doc.RootElement;
            if (!Enum.TryParse(r.GetProperty("k").GetString(), ignoreCase: true, out TraceKind kind)) return false;
            var ev = new TraceEvent(kind, r.GetProperty("t").GetInt64(), r.GetProperty("n").GetUInt32(), r.GetProperty("i").GetUInt64());
            if (r.TryGetProperty("m", out JsonElement m))
            {
                ev = ev with
                {
                    Message = new MessageId(m[0].GetUInt32(), m[1].GetUInt64(), m[2].GetUInt64()),
                    Service = Enum.Parse<RingService>(r.GetProperty("svc").GetString()!, ignoreCase: true),
                    PayloadHash = ulong.Parse(r.GetProperty("h").GetString()!, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                };
            }
            if (r.TryGetProperty("conf", out JsonElement c))
            {
                bool reg = c.GetProperty("kind").GetString() == "reg";
                RingId ring = ReadRing(c.GetProperty("ring"));
                ev = ev with { Conf = reg ? ConfId.Reg(ring) : ConfId.Trans(ring, ReadRing(c.GetProperty("old"))) };
            }
            if (r.TryGetProperty("members", out JsonElement mem)) ev = ev with { Members = [.. mem.EnumerateArray().Select(x => x.GetUInt32())] };
            if (kind == TraceKind.Deliver) ev = ev with { Ring = ReadRing(r.GetProperty("ring")), Seq = r.GetProperty("seq").GetUInt64() };
            if (kind >= TraceKind.GroupView) ev = GroupTraceJson.Read(r, ev);
            e = ev;
            return true;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            return false;
        }
    }

    private static RingId ReadRing(JsonElement a) => new(a[0].GetUInt32(), a[1].GetUInt64());
}
