namespace Conclave.Protocol.Simulation;

/// <summary>
/// xoshiro256** seeded by splitmix64: a small PRNG whose output is fixed by this code, so a seed
/// replays identically on every runtime version (System.Random makes no such promise).
/// </summary>
internal sealed class SimRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public SimRandom(ulong seed, ulong stream)
    {
        ulong x = seed ^ (stream * 0x9E3779B97F4A7C15UL);
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextU64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextU64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [min, max).</summary>
    public long Range(long min, long max) => max <= min ? min : min + (long)(NextU64() % (ulong)(max - min));

    public int Next(int max) => (int)Range(0, max);

    public bool Chance(double p) => p > 0 && NextDouble() < p;

    /// <summary>Exponential with the given mean.</summary>
    public long Exponential(double mean) => (long)(-Math.Log(1.0 - NextDouble()) * mean);
}
