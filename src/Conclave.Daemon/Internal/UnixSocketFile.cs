using System.Net.Sockets;

namespace Conclave.Daemon.Internal;

/// <summary>The Unix-domain socket file: stale files are removed, live ones are never stolen.</summary>
internal static class UnixSocketFile
{
    /// <summary>Removes a leftover socket file; throws if another process still listens on it.</summary>
    public static void ClaimStale(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            File.Delete(path); // Nobody listens: a previous daemon died without cleaning up.
            return;
        }

        throw new SocketException((int)SocketError.AddressAlreadyInUse, $"Another daemon is listening on {path}.");
    }

    public static void Remove(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
