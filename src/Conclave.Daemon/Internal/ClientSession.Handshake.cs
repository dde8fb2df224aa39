using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Conclave.Protocol.Spread;

namespace Conclave.Daemon.Internal;

/// <summary>The daemon's side of the connect handshake (spread-client-protocol.md §2).</summary>
internal sealed partial class ClientSession
{
    private static readonly string[] AllowedMethods = [AuthExchange.NullMethod];
    private static readonly byte[] MethodList = AuthExchange.EncodeMethodList(AllowedMethods);

    /// <summary>
    /// Reads the connect request, checks version and name, runs the NULL authentication exchange for
    /// libraries from 3.16 on, and accepts. A refusal is one signed byte, then the connection closes.
    /// </summary>
    private async Task<bool> HandshakeAsync(CancellationToken lifetime)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(lifetime);
        deadline.CancelAfter(_host.Options.HandshakeTimeout);
        CancellationToken token = deadline.Token;
        try
        {
            byte[]? version = await ReadExactAsync(2, token);
            if (version is null)
            {
                return Refuse(null, "closed before the connect request");
            }

            int patch = 0;
            if (SpreadVersion.SendsPatchByte(version[0], version[1]))
            {
                byte[]? patchByte = await ReadExactAsync(1, token);
                if (patchByte is null)
                {
                    return Refuse(null, "closed in the connect request");
                }

                patch = patchByte[0];
            }

            var clientVersion = new SpreadVersion(version[0], version[1], patch);
            if (!clientVersion.IsSupported)
            {
                return Refuse(SpreadError.RejectVersion, $"library version {clientVersion} is older than 3.1.0");
            }

            byte[]? flagsAndLength = await ReadExactAsync(2, token);
            if (flagsAndLength is null)
            {
                return Refuse(null, "closed in the connect request");
            }

            int nameLength = flagsAndLength[1];
            if (nameLength > SpreadLimits.MaxPrivateNameLength)
            {
                return Refuse(SpreadError.RejectIllegalName, $"name length {(sbyte)flagsAndLength[1]} is outside 0..10");
            }

            byte[] name = nameLength == 0 ? [] : await ReadExactAsync(nameLength, token) ?? [];
            if (name.Length != nameLength)
            {
                return Refuse(null, "closed in the requested name");
            }

            if (ConnectRequest.ValidateRequestedName(name) is { } nameError)
            {
                return Refuse(nameError, "the name has characters outside '$'..'~'");
            }

            if (name.Length == 0)
            {
                UserName = _host.ReserveGeneratedName(this);
            }
            else
            {
                string requested = Encoding.Latin1.GetString(name);
                if (!_host.TryReserveName(requested, this))
                {
                    return Refuse(SpreadError.RejectNotUnique, $"the name '{requested}' is in use");
                }

                UserName = requested;
            }

            WantsMembership = (flagsAndLength[0] & ConnectRequest.MembershipFlag) != 0;
            // The authentication phase gets its own budget, so a slow start does not eat into it.
            deadline.CancelAfter(_host.Options.HandshakeTimeout);
            if (clientVersion.UsesAuthExchange && !await AuthenticateAsync(token))
            {
                return false;
            }

            PrivateGroupName = Protocol.Spread.PrivateGroupName.Format(UserName, _host.Options.Name);
            _privateNameBytes = Encoding.Latin1.GetBytes(PrivateGroupName);
            Volatile.Write(ref _accepted, 1);
            await _socket.SendAsync(AcceptReply.Encode(clientVersion, SpreadLimits.ProtocolVersion, PrivateGroupName), token);
            return true;
        }
        catch (OperationCanceledException) when (!lifetime.IsCancellationRequested)
        {
            return Refuse(null, "the handshake did not complete in time");
        }
    }

    private async Task<bool> AuthenticateAsync(CancellationToken token)
    {
        await _socket.SendAsync(MethodList, token);
        byte[]? choice;
        try
        {
            choice = await ReadExactAsync(SpreadLimits.AuthChoiceSize, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            choice = null; // Spread reads the choice once and refuses a short one; we wait until the deadline.
        }

        if (choice is null)
        {
            return Refuse(SpreadError.RejectAuth, "short authentication choice");
        }

        return AuthExchange.IsAcceptableChoice(choice, AllowedMethods) || Refuse(SpreadError.RejectAuth, "no acceptable authentication method chosen");
    }

    /// <summary>Sends the reject byte (if any), counts and logs; always false.</summary>
    private bool Refuse(SpreadError? code, string reason)
    {
        Interlocked.Increment(ref _host.Counters.HandshakesRejected);
        DaemonLog.HandshakeRejected(_host.Logger, Peer, reason);
        if (code is { } reject)
        {
            try
            {
                _socket.Send([unchecked((byte)(sbyte)reject)]);
            }
            catch (System.Net.Sockets.SocketException)
            {
                // The client is gone already.
            }
        }

        return false;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, or null if the stream ends first.</summary>
    private async ValueTask<byte[]?> ReadExactAsync(int count, CancellationToken token)
    {
        ReadResult result = await _input.ReadAtLeastAsync(count, token);
        ReadOnlySequence<byte> buffer = result.Buffer;
        if (buffer.Length < count)
        {
            _input.AdvanceTo(buffer.Start, buffer.End);
            return null;
        }

        byte[] bytes = buffer.Slice(0, count).ToArray();
        _input.AdvanceTo(buffer.GetPosition(count));
        return bytes;
    }
}
