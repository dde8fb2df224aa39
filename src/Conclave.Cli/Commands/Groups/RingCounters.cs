using System.Diagnostics.Metrics;

namespace Conclave.Cli.Commands.Groups;

/// <summary>
/// Reads the in-process daemons' ring counters (token visits, UDP packets sent; all daemons together) from their
/// published instruments, so a throughput run can say how many ring rotations and packets each message cost: the
/// ring's per-rotation work does not depend on the machine's load the way the rate does.
/// </summary>
internal sealed class RingCounters : IDisposable
{
    private const string TokenRotations = "conclave.ring.token.rotations";
    private const string PacketsSent = "conclave.ring.packets.sent";

    private readonly MeterListener _listener = new();
    private readonly object _lock = new();
    private long _tokens;
    private long _packets;

    public RingCounters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Conclave.Daemon" && instrument.Name is TokenRotations or PacketsSent)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == TokenRotations)
            {
                _tokens += value;
            }
            else
            {
                _packets += value;
            }
        });
        _listener.Start();
    }

    /// <summary>Token visits and packets sent so far, summed over the daemons.</summary>
    public (long TokenVisits, long PacketsSent) Read()
    {
        lock (_lock)
        {
            (_tokens, _packets) = (0, 0);
            _listener.RecordObservableInstruments();
            return (_tokens, _packets);
        }
    }

    public void Dispose() => _listener.Dispose();
}
