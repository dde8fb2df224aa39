using System.Runtime.CompilerServices;
using Conclave.Client.Internal;
using Conclave.Protocol.Spread;

namespace Conclave.Client;

public sealed partial class GroupConnection
{
    /// <summary>Receives the next message of the session's ordered stream, decoded.</summary>
    /// <param name="cancellationToken">Cancels waiting. Cancelling while a frame is half read makes later receives fail.</param>
    /// <returns>A <see cref="DataMessage"/>, <see cref="MembershipMessage"/>, <see cref="TransitionalMembershipMessage"/>, <see cref="SelfLeaveMessage"/> or <see cref="RejectMessage"/>.</returns>
    /// <exception cref="SpreadException"><see cref="SpreadError.ConnectionClosed"/> when the session ends, <see cref="SpreadError.IllegalMessage"/> for a malformed frame.</exception>
    /// <exception cref="InvalidOperationException">Another receive is already in progress.</exception>
    public async ValueTask<SpreadMessage> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        using SpreadFrame frame = await ReceiveFrameAsync(cancellationToken).ConfigureAwait(false);
        return MessageDecoder.Decode(frame, PrivateGroup);
    }

    /// <summary>Receives the next frame into a pooled buffer without decoding names or copying the body: the hot-loop path.</summary>
    /// <param name="cancellationToken">Cancels waiting. Cancelling while a frame is half read makes later receives fail.</param>
    /// <returns>The frame; dispose it once to return its buffer to the pool.</returns>
    /// <exception cref="SpreadException"><see cref="SpreadError.ConnectionClosed"/> when the session ends, <see cref="SpreadError.IllegalMessage"/> for a malformed frame.</exception>
    /// <exception cref="InvalidOperationException">Another receive is already in progress.</exception>
    public ValueTask<SpreadFrame> ReceiveFrameAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _receiving, 1) != 0)
        {
            throw new InvalidOperationException("Another receive is in progress: a Spread session has one ordered stream and one reader.");
        }

        if (IsClosed)
        {
            Volatile.Write(ref _receiving, 0);
            return ValueTask.FromException<SpreadFrame>(new SpreadException(SpreadError.ConnectionClosed, "The session is closed."));
        }

        ValueTask<SpreadFrame> read = _reader.ReadFrameAsync(cancellationToken);
        if (read.IsCompletedSuccessfully)
        {
            Volatile.Write(ref _receiving, 0);
            return read;
        }

        return AwaitFrameAsync(read);
    }

    /// <summary>Enumerates the session's messages in order until the session is closed locally.</summary>
    /// <param name="cancellationToken">Ends the enumeration with <see cref="OperationCanceledException"/>.</param>
    /// <returns>The messages, in the order the daemon delivered them.</returns>
    /// <exception cref="SpreadException"><see cref="SpreadError.ConnectionClosed"/> if the daemon ends the session.</exception>
    public async IAsyncEnumerable<SpreadMessage> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            SpreadMessage message;
            try
            {
                message = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SpreadException e) when (e.Error == SpreadError.ConnectionClosed && IsClosedLocally)
            {
                yield break;
            }

            yield return message;
        }
    }

    private async ValueTask<SpreadFrame> AwaitFrameAsync(ValueTask<SpreadFrame> read)
    {
        try
        {
            return await read.ConfigureAwait(false);
        }
        catch (SpreadException)
        {
            // The daemon closed the session or broke the framing: like libspread, the mailbox is dead.
            Close(_disconnecting ? ClosedLocally : Lost);
            throw;
        }
        finally
        {
            Volatile.Write(ref _receiving, 0);
        }
    }
}
