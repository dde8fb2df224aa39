namespace Conclave.Client.Flush.Internal;

/// <summary>Writes a message body of a length known in advance straight into the send buffer; false to send nothing.</summary>
internal delegate bool BodyWriter<in TState>(TState state, Span<byte> body);
