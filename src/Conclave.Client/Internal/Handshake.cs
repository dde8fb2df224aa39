using System.Net.Sockets;
using System.Text;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Internal;

/// <summary>
/// The client side of the connect handshake of a 4.4.0 library (spread-client-protocol.md §2).
/// </summary>
/// <remarks>
/// <code>
///  c→d  4 4 0 | flags (bit 0 membership, high nibble priority) | L | name (L ≤ 10)
///  d→c  N (signed: negative = reject code) | N bytes of "METHOD " entries
///  c→d  90 bytes: 3 × 30-byte NUL-padded method names ("NULL")
///  d→c  1 (ACCEPT_SESSION, else a reject code) | major | minor | patch | M | "#name#daemon"
/// </code>
/// The daemon writes its replies in several sends, so every field is read as it trickles in.
/// </remarks>
internal static class Handshake
{
    public static async ValueTask<(string PrivateGroup, SpreadVersion DaemonVersion)> RunAsync(
        Socket socket, FrameReader reader, string privateName, byte flags, CancellationToken cancellationToken)
    {
        // libspread silently truncates longer names to MAX_PRIVATE_NAME.
        byte[] name = Encoding.Latin1.GetBytes(privateName.Length > SpreadLimits.MaxPrivateNameLength ? privateName[..SpreadLimits.MaxPrivateNameLength] : privateName);
        byte[] request = new ConnectRequest(SpreadLimits.ProtocolVersion, flags, Encoding.Latin1.GetString(name)).Encode();
        await SendAsync(socket, request, cancellationToken).ConfigureAwait(false);

        int listLength = unchecked((sbyte)await reader.ReadByteAsync(cancellationToken).ConfigureAwait(false));
        if (listLength < 0)
        {
            throw new SpreadException((SpreadError)listLength);
        }

        byte[] list = new byte[listLength];
        await reader.ReadExactAsync(list, cancellationToken).ConfigureAwait(false);
        if (!AuthExchange.DecodeMethodList(list).Contains(AuthExchange.NullMethod, StringComparer.Ordinal))
        {
            throw new SpreadException(SpreadError.RejectAuth, $"The daemon does not offer the NULL authentication method (it offers '{Encoding.ASCII.GetString(list).TrimEnd()}').");
        }

        await SendAsync(socket, AuthExchange.EncodeChoice([AuthExchange.NullMethod]), cancellationToken).ConfigureAwait(false);

        int verdict = unchecked((sbyte)await reader.ReadByteAsync(cancellationToken).ConfigureAwait(false));
        if (verdict != (int)SpreadError.AcceptSession)
        {
            throw verdict < 0
                ? new SpreadException((SpreadError)verdict)
                : new SpreadException(SpreadError.IllegalMessage, $"The daemon answered the handshake with {verdict}.");
        }

        int major = await reader.ReadByteAsync(cancellationToken).ConfigureAwait(false);
        int minor = await reader.ReadByteAsync(cancellationToken).ConfigureAwait(false);
        int patch = await reader.ReadByteAsync(cancellationToken).ConfigureAwait(false);
        var daemonVersion = new SpreadVersion(major, minor, patch);
        if (!daemonVersion.IsSupported || (daemonVersion.Code < 30800 && (flags >> 4) > 0))
        {
            throw new SpreadException(SpreadError.RejectVersion, $"The daemon's version {daemonVersion} is too old for this library.");
        }

        int groupLength = await reader.ReadByteAsync(cancellationToken).ConfigureAwait(false);
        byte[] group = new byte[groupLength];
        await reader.ReadExactAsync(group, cancellationToken).ConfigureAwait(false);
        return (Encoding.Latin1.GetString(group), daemonVersion);
    }

    private static async ValueTask SendAsync(Socket socket, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        try
        {
            while (!bytes.IsEmpty)
            {
                int n = await socket.SendAsync(bytes, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                bytes = bytes[n..];
            }
        }
        catch (SocketException e)
        {
            throw new SpreadException(SpreadError.ConnectionClosed, $"The daemon closed the connection during the handshake: {e.Message}", e);
        }
    }
}
