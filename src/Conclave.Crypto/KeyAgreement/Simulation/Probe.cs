namespace Conclave.Crypto.KeyAgreement.Simulation;

internal static class Probe
{
    [ThreadStatic] private static List<(string, long)>? _marks;
    [ThreadStatic] private static long _last;
    public static void Start() { _marks = []; _last = ThreadCpuClock.NowNanoseconds(); }
    public static void Mark(string label)
    {
        if (_marks is null) return;
        long now = ThreadCpuClock.NowNanoseconds();
        _marks.Add((label, now - _last));
        _last = ThreadCpuClock.NowNanoseconds();
    }
    public static string Take()
    {
        Mark("end");
        string s = _marks is null ? "" : string.Join(" ", _marks.Where(m => m.Item2 > 5000).Select(m => $"{m.Item1}={m.Item2 / 1000}"));
        _marks = null;
        return s;
    }
}
