namespace Conclave.Crypto.KeyAgreement;

/// <summary>
/// Public-key work a module can do before the next membership change (a GDH controller's next share and the partial
/// keys raised to it), handed to the caller to run on any thread, away from the path that receives messages. The
/// module uses the result only if the work has finished and still fits its state when the change comes; otherwise it
/// computes as it would have without it.
/// </summary>
public abstract class KeyAgreementPrecomputation
{
    private int _started;
    private volatile bool _finished;

    /// <summary>Gets a value indicating whether <see cref="Run"/> has completed (its results are then visible to any thread).</summary>
    internal bool IsFinished => _finished;

    /// <summary>Does the work. Safe to call from any thread; only the first call does anything.</summary>
    public void Run()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        Compute();
        _finished = true;
    }

    /// <summary>The work itself: touches only the precomputation's own copies, never the module's state.</summary>
    protected abstract void Compute();
}
