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
    private bool _failed;

    /// <summary>Gets a value indicating whether <see cref="Run"/> has completed (its results are then visible to any thread).</summary>
    internal bool IsFinished => _finished;

    /// <summary>Gets a value indicating whether the work ended in an exception: its results are not to be used (read after <see cref="IsFinished"/>).</summary>
    internal bool Failed => _failed;

    /// <summary>Does the work. Safe to call from any thread; only the first call does anything. Never throws.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Runs on a thread-pool thread, where an exception would end the process; the module then computes on its own thread, where any error surfaces as usual.")]
    public void Run()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        try
        {
            Compute();
        }
        catch (Exception)
        {
            _failed = true;
        }

        _finished = true;
    }

    /// <summary>The work itself: touches only the precomputation's own copies, never the module's state.</summary>
    protected abstract void Compute();
}
