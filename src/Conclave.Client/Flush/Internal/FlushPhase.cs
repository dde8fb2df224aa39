namespace Conclave.Client.Flush.Internal;

/// <summary>A group's place in the flush protocol (FL's vstate).</summary>
internal enum FlushPhase
{
    /// <summary>A view is installed and every member confirmed it (all FLUSH_RECVs seen).</summary>
    Steady,

    /// <summary>A flush request is out; the application has not answered yet.</summary>
    Authorize,

    /// <summary>Our FLUSH_OK is sent; waiting for every member's; sends are held.</summary>
    Agree,

    /// <summary>A view is installed; not every member confirmed it yet, so weak-service sends are tagged vulnerable.</summary>
    Verify,
}
