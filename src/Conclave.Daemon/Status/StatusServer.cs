using System.Net.Sockets;
using System.Text.Json;
using Conclave.Daemon.Internal;

namespace Conclave.Daemon.Status;

/// <summary>
/// Serves the daemon's status on an owner-only Unix-domain socket: each connection receives one
/// JSON <see cref="DaemonStatusReport"/> and is closed (nothing is read from it).
/// </summary>
internal sealed class StatusServer : IDisposable
{
    private readonly Socket _listener;
    private readonly string _path;
    private readonly Func<DaemonStatusReport> _report;
    private readonly Task _accepting;

    public StatusServer(string path, Func<DaemonStatusReport> report)
    {
        _path = path;
        _report = report;
        UnixSocketFile.ClaimStale(path);
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            // Owner-only before listening: no one can connect while the mode is still the umask's.
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            _listener.Listen(16);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }

        _accepting = Task.Run(AcceptLoopAsync);
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }

            using (client)
            {
                try
                {
                    byte[] json = JsonSerializer.SerializeToUtf8Bytes(_report(), StatusJson.Default.DaemonStatusReport);
                    await client.SendAsync(json);
                    client.Shutdown(SocketShutdown.Send);
                }
                catch (SocketException)
                {
                    // The monitor went away.
                }
            }
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        _accepting.Wait(TimeSpan.FromSeconds(5));
        UnixSocketFile.Remove(_path);
    }
}
