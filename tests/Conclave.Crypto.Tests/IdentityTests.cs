using Conclave.Crypto;

namespace Conclave.Crypto.Tests;

public sealed class IdentityTests
{
    [Fact]
    public void Key_file_round_trips_with_owner_only_permissions_and_refuses_overwrite()
    {
        string dir = Directory.CreateTempSubdirectory("conclave-key").FullName;
        string path = Path.Combine(dir, "member.key");
        try
        {
            using MemberIdentity identity = MemberIdentity.Generate();
            MemberKeyFile.Write(path, identity, overwrite: false);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }

            using MemberIdentity read = MemberKeyFile.Read(path);
            Assert.Equal(identity.PublicKey, read.PublicKey);
            byte[] signature = read.Sign("hello"u8);
            Assert.True(MemberIdentity.Verify(identity.PublicKey, "hello"u8, signature));
            Assert.False(MemberIdentity.Verify(identity.PublicKey, "hellO"u8, signature));

            Assert.Throws<IOException>(() => MemberKeyFile.Write(path, identity, overwrite: false));
            using MemberIdentity other = MemberIdentity.Generate();
            MemberKeyFile.Write(path, other, overwrite: true);
            using MemberIdentity reread = MemberKeyFile.Read(path);
            Assert.Equal(other.PublicKey, reread.PublicKey);

            File.WriteAllText(path, File.ReadAllText(path).Replace("public: ", "public: AAAA", StringComparison.Ordinal));
            Assert.Throws<InvalidDataException>(() => MemberKeyFile.Read(path));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
