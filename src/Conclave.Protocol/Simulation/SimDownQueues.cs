using Conclave.Protocol.Ring;

namespace Conclave.Protocol.Simulation;

/// <summary>
/// One daemon incarnation's messages waiting above the ring, in Spread's two down-queues: group-state
/// messages, and client requests, which are held while <paramref name="holdClients"/> says a state
/// exchange is running (ring-protocol.md §5.3 J6). The ring takes from here only while it holds the
/// token, so a request that was still waiting when a merge arrived is ordered after the exchange,
/// never inside it.
/// </summary>
internal sealed class SimDownQueues(ulong incarnation, Func<bool> holdClients) : IRingSendSource
{
    private readonly Queue<byte[]> _state = new();
    private readonly Queue<(byte[] Payload, RingService Service)> _clients = new();

    /// <summary>The daemon incarnation these queues belong to; a restart starts with empty ones.</summary>
    public ulong Incarnation { get; } = incarnation;

    /// <summary>Client requests waiting, held or not.</summary>
    public int ClientsWaiting => _clients.Count;

    /// <summary>What the ring may take now: held requests are not backlog, so an idle ring may hold its token.</summary>
    public int Backlog => _state.Count + (holdClients() ? 0 : _clients.Count);

    public void AddState(byte[] payload) => _state.Enqueue(payload);

    public void AddClient(byte[] payload, RingService service) => _clients.Enqueue((payload, service));

    public bool TryTake(out byte[] payload, out RingService service)
    {
        if (_state.TryDequeue(out byte[]? state))
        {
            payload = state;
            service = RingService.Agreed;
            return true;
        }

        if (!holdClients() && _clients.TryDequeue(out (byte[] Payload, RingService Service) client))
        {
            (payload, service) = client;
            return true;
        }

        payload = [];
        service = default;
        return false;
    }
}
