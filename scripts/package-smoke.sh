#!/usr/bin/env bash
# Packs the solution (the libraries and the conclave tool) into a local folder, installs and runs the tool
# from there, creates a fresh console project outside the repository that references Conclave.Client
# from that folder, and has it exchange a message with a running daemon.
#   usage: scripts/package-smoke.sh PORT@HOST      (a daemon must be listening there)
# It packs the existing Release build (dotnet build/test -c Release of the solution first). Run from CI by
# tests/Conclave.Distribution.Tests (PackageSmokeTests). The other dependencies (BouncyCastle, libsodium,
# Microsoft.Extensions.Logging.Abstractions) come from the machine's NuGet cache or its configured feed.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
daemon=${1:?usage: package-smoke.sh PORT@HOST}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1
work=$(mktemp -d "${TMPDIR:-/tmp}/conclave-pack-XXXXXX")
# A version of its own, so the NuGet cache never serves an earlier run's package.
version="0.0.0-smoke.$(date +%s).$$"
cache=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: *//')
cleanup() {
  rm -rf "$work"
  for id in conclave.protocol conclave.crypto conclave.client conclave.daemon conclave.hosting conclave; do rm -rf "${cache:?}/$id/$version"; done
}
trap cleanup EXIT

# Every packable project of the solution: the five libraries and the conclave tool.
dotnet pack "$repo/Conclave.slnx" -c Release --no-build \
  -p:Version="$version" -p:IncludeSymbols=false -o "$work/feed" -v quiet --nologo
echo "packed: $(cd "$work/feed" && ls | tr '\n' ' ')"
for id in Conclave.Protocol Conclave.Crypto Conclave.Client Conclave.Daemon Conclave.Hosting conclave; do
  [ -f "$work/feed/$id.$version.nupkg" ] || { echo "missing package $id"; exit 1; }
done

# The tool installs from the feed and runs.
dotnet tool install conclave --version "$version" --add-source "$work/feed" --tool-path "$work/tools" > /dev/null
"$work/tools/conclave" version

mkdir "$work/app"
cat > "$work/app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="conclave-local" value="$work/feed" />
  </packageSources>
</configuration>
XML
cat > "$work/app/SmokeApp.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Conclave.Client" Version="$version" />
  </ItemGroup>
</Project>
XML
cat > "$work/app/Program.cs" <<'CS'
using System.Text;
using Conclave.Client;
using Conclave.Protocol.Spread;

await using GroupConnection connection = await GroupConnection.ConnectAsync(args[0], "pkgsmoke", groupMembership: true);
await connection.JoinAsync("package-smoke");
await connection.MulticastAsync(ServiceType.Agreed, "package-smoke", 1, Encoding.UTF8.GetBytes("hello from a package"));
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
await foreach (SpreadMessage message in connection.ReadAllAsync(timeout.Token))
{
    if (message is DataMessage data)
    {
        Console.WriteLine($"received '{Encoding.UTF8.GetString(data.Body.Span)}' from {data.Sender}");
        return 0;
    }
}

return 1;
CS

dotnet build "$work/app/SmokeApp.csproj" -c Release --disable-build-servers -v quiet --nologo
dotnet "$work/app/bin/Release/net10.0/SmokeApp.dll" "$daemon" | tee "$work/out.txt"
grep -q "received 'hello from a package' from #pkgsmoke#" "$work/out.txt"
echo "package smoke: OK (Conclave.Client $version from a local feed)"
