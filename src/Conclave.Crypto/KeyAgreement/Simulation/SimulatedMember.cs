namespace Conclave.Crypto.KeyAgreement.Simulation;

/// <summary>One member in the in-memory simulator: its identity, module, counter and what it has seen.</summary>
internal sealed class SimulatedMember : IDisposable
{
    public SimulatedMember(string name, IGroupKeyAgreement module, MemberIdentity identity, OperationCounter counter)
    {
        Name = name;
        Module = module;
        Identity = identity;
        Counter = counter;
    }

    public string Name { get; }

    public IGroupKeyAgreement Module { get; }

    public MemberIdentity Identity { get; }

    public OperationCounter Counter { get; }

    /// <summary>The members of this member's last view (empty before its first).</summary>
    public IReadOnlyList<string> PreviousView { get; set; } = [];

    /// <summary>The id of this member's last view (0 before its first).</summary>
    public ulong PreviousViewId { get; set; }

    /// <summary>Every key this member established, in order.</summary>
    public List<KeyEstablished> Keys { get; } = [];

    /// <summary>Every wire message delivered to this member (for knowledge checks).</summary>
    public List<byte[]> Received { get; } = [];

    /// <summary>Critical-path exponentiation count reached by this member in the current measurement.</summary>
    public long SerialClock { get; set; }

    /// <summary>Critical-path elapsed ticks reached by this member in the current measurement.</summary>
    public long SerialTicks { get; set; }

    /// <summary>Serial count and ticks at which this member last established a key.</summary>
    public (long Exps, long Ticks) KeyStamp { get; set; }

    /// <summary>This member's last traced step (-1: none), for critical-path traces.</summary>
    public int LastStep { get; set; } = -1;

    /// <summary>The traced step in which this member last established a key.</summary>
    public int KeyStep { get; set; } = -1;

    public void Dispose()
    {
        Module.Dispose();
        Identity.Dispose();
    }
}
