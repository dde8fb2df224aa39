using Conclave.Daemon.Network;

namespace Conclave.Daemon.Tests.Network;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ClusterKeyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("conclave-key-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_generated_key_is_saved_owner_only_and_loads_with_the_same_id()
    {
        string path = Path.Combine(_dir, "cluster.key");
        ClusterKey key = ClusterKey.Generate();

        key.Save(path, overwrite: false);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(key.KeyId, ClusterKey.Load(path).KeyId);
        Assert.Throws<IOException>(() => key.Save(path, overwrite: false));
    }

    [Theory]
    [InlineData("conclave-cluster-key v1\n" + "0000000000000000000000000000000000000000000000000000000000000000\n", "weak")]
    [InlineData("conclave-cluster-key v1\n" + "abcd\n", "2 bytes")]
    [InlineData("conclave-cluster-key v1\n" + "zz\n", "not hexadecimal")]
    [InlineData("something else\n", "not a cluster key file")]
    public void Bad_key_files_are_refused_with_the_reason(string content, string reason)
    {
        string path = Path.Combine(_dir, "bad.key");
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        ClusterKeyException error = Assert.Throws<ClusterKeyException>(() => ClusterKey.Load(path));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_and_world_readable_key_files_are_refused()
    {
        string path = Path.Combine(_dir, "open.key");
        ClusterKey.Generate().Save(path, overwrite: false);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        Assert.Contains("readable or writable by others", Assert.Throws<ClusterKeyException>(() => ClusterKey.Load(path)).Message, StringComparison.Ordinal);
        Assert.Contains("cannot read", Assert.Throws<ClusterKeyException>(() => ClusterKey.Load(Path.Combine(_dir, "none.key"))).Message, StringComparison.Ordinal);
    }
}
