using Conclave.Protocol.Ring.Wire;

namespace Conclave.Protocol.Ring.States;

/// <summary>
/// One protocol state: a row of the state × event table (ring-protocol.md §3.5). A state decides
/// what an event means here and asks the machine to act or to transition; it never builds the next
/// state itself.
/// </summary>
internal interface IRingState
{
    RingState Kind { get; }
    void OnToken(OrfToken token);
    void OnMcast(McastMessage message, uint sender);
    void OnJoin(JoinMessage join);
    void OnCommitToken(CommitToken token);
    void OnMergeDetect(MergeDetectMessage detect);
    void OnTimer(RingTimer timer);
}
