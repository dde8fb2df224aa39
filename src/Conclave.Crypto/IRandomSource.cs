using System.Security.Cryptography;

namespace Conclave.Crypto;

/// <summary>Where key agreement modules take their randomness from (injected so tests can be seeded).</summary>
public interface IRandomSource
{
    /// <summary>Fills <paramref name="destination"/> with random bytes.</summary>
    void Fill(Span<byte> destination);
}

/// <summary>The operating system's cryptographic random number generator: the only source for real use.</summary>
public sealed class SystemRandomSource : IRandomSource
{
    /// <summary>The shared instance (stateless).</summary>
    public static SystemRandomSource Instance { get; } = new();

    private SystemRandomSource()
    {
    }

    /// <inheritdoc />
    public void Fill(Span<byte> destination) => RandomNumberGenerator.Fill(destination);
}

/// <summary>A seeded, reproducible source: for tests and benchmarks only, never for real keys.</summary>
public sealed class SeededRandomSource(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);

    /// <inheritdoc />
    public void Fill(Span<byte> destination) => _random.NextBytes(destination);
}
