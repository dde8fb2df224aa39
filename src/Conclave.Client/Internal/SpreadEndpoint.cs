using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Conclave.Protocol.Spread;

namespace Conclave.Client.Internal;

/// <summary>
/// The three forms of libspread's spread name (spread-client-protocol.md §1): empty = "4803",
/// "PORT" = the Unix socket <c>/tmp/PORT</c>, "PORT@HOST" = TCP.
/// </summary>
internal sealed class SpreadEndpoint
{
    private SpreadEndpoint(int port, string? host)
    {
        Port = port;
        Host = host;
    }

    public int Port { get; }

    /// <summary>The TCP host, or null for the Unix socket.</summary>
    public string? Host { get; }

    public string UnixPath => "/tmp/" + Port.ToString(CultureInfo.InvariantCulture);

    public static SpreadEndpoint Parse(string? spreadName)
    {
        if (string.IsNullOrEmpty(spreadName))
        {
            return new SpreadEndpoint(SpreadLimits.DefaultPort, null);
        }

        int at = spreadName.IndexOf('@', StringComparison.Ordinal);
        string portText = at < 0 ? spreadName : spreadName[..at];
        string? host = at < 0 ? null : spreadName[(at + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is <= 0 or > 65535 || host is { Length: 0 })
        {
            throw new SpreadException(SpreadError.IllegalSpread, $"'{spreadName}' is not a spread name of the form PORT@HOST, PORT or empty.");
        }

        return new SpreadEndpoint(port, host);
    }

    /// <summary>Opens the socket: TCP with TCP_NODELAY and SO_KEEPALIVE as libspread sets them, or the Unix socket.</summary>
    public async ValueTask<Socket> ConnectAsync(CancellationToken cancellationToken)
    {
        if (Host is null)
        {
            var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await unix.ConnectAsync(new UnixDomainSocketEndPoint(UnixPath), cancellationToken).ConfigureAwait(false);
                return unix;
            }
            catch (SocketException e)
            {
                unix.Dispose();
                throw new SpreadException(SpreadError.CouldNotConnect, $"Could not connect to the Spread daemon at {UnixPath}: {e.Message}", e);
            }
        }

        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(Host, out IPAddress? literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(Host, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new SpreadException(SpreadError.CouldNotConnect, $"Could not resolve '{Host}': {e.Message}", e);
        }

        // Spread daemons listen on IPv4 addresses; try those first so "localhost" does not stall on ::1.
        SocketException? last = null;
        foreach (IPAddress address in addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1))
        {
            var tcp = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                tcp.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                await tcp.ConnectAsync(new IPEndPoint(address, Port), cancellationToken).ConfigureAwait(false);
                return tcp;
            }
            catch (SocketException e)
            {
                tcp.Dispose();
                last = e;
            }
        }

        throw new SpreadException(SpreadError.CouldNotConnect, $"Could not connect to the Spread daemon at {Port}@{Host}: {last?.Message ?? "no address"}", last);
    }

    public override string ToString() => Host is null ? UnixPath : $"{Port}@{Host}";
}
