using BenchmarkDotNet.Attributes;
using Conclave.Protocol.Ring;

namespace Conclave.Benchmarks;

/// <summary>
/// The ring core's cost per ordered message: a formed ring of N cores in one process (no network,
/// no crypto), a batch of messages submitted round-robin at every daemon, timed until every daemon
/// has delivered all of them. One operation = one message ordered and delivered at all N daemons.
/// Run with <c>--filter *RingCore* --job short --inProcess</c> (no separate build; the machine is shared).
/// </summary>
[MemoryDiagnoser]
public class RingCoreBenchmarks
{
    private const int Batch = 2_000;
    private RingHarness _ring = null!;
    private byte[] _payload = [];
    private long _target;

    [Params(3, 5)]
    public int Daemons { get; set; }

    [Params(RingService.Agreed, RingService.Safe)]
    public RingService Service { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ring = new RingHarness(Daemons, new RingOptions());
        _ring.RunUntil(() => _ring.Formed);
        _payload = new byte[100];
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public long OrderBatch()
    {
        _target += Batch;
        for (int i = 0; i < Batch; i++)
        {
            _ring.Submit((uint)((i % Daemons) + 1), _payload, Service);
        }

        long target = _target;
        long[] delivered = _ring.Delivered;
        _ring.RunUntil(() =>
        {
            for (int n = 1; n < delivered.Length; n++)
            {
                if (delivered[n] < target) return false;
            }
            return true;
        });
        return delivered[1];
    }
}
