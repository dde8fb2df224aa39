using Microsoft.Extensions.Logging;

namespace Conclave.Client.Diagnostics;

/// <summary>The client library's log catalogue. Event ids 1000–1099: 1000–1004 and 1007 secure groups, 1005–1006 and 1008 the Flush layer.</summary>
internal static partial class ClientLog
{
    [LoggerMessage(1000, LogLevel.Debug, "Secure group {Group}: key agreement started for a view of {Members} members")]
    public static partial void KeyAgreementStarted(ILogger logger, string group, int members);

    [LoggerMessage(1001, LogLevel.Information, "Secure group {Group}: key established for epoch {Epoch}, {Members} members, agreement took {Milliseconds} ms")]
    public static partial void KeyEstablished(ILogger logger, string group, string epoch, int members, double milliseconds);

    [LoggerMessage(1002, LogLevel.Warning, "Secure group {Group}: refused a message from {Sender}: {Cause}")]
    public static partial void MessageRefused(ILogger logger, string group, string sender, string cause);

    [LoggerMessage(1004, LogLevel.Debug, "Secure group {Group}: first key agreement message of the view of {Members} members received")]
    public static partial void FirstKeyAgreementMessage(ILogger logger, string group, int members);

    [LoggerMessage(1007, LogLevel.Debug, "Secure group {Group}: key agreement message computed for a view of {Members} members")]
    public static partial void KeyAgreementSent(ILogger logger, string group, int members);

    [LoggerMessage(1005, LogLevel.Debug, "Flush group {Group}: Spread view of {Members} members received, flush started")]
    public static partial void SpreadViewReceived(ILogger logger, string group, int members);

    [LoggerMessage(1006, LogLevel.Debug, "Flush group {Group}: every FLUSH_OK in, view of {Members} members installed")]
    public static partial void FlushViewInstalled(ILogger logger, string group, int members);

    [LoggerMessage(1008, LogLevel.Warning, "Flush group {Group}: dropped a control message from {Sender}: {Reason}")]
    public static partial void FlushControlRejected(ILogger logger, string group, string sender, string reason);

    [LoggerMessage(1003, LogLevel.Debug, "Secure group {Group}: dropped a message from {Sender} sealed under another epoch")]
    public static partial void OtherEpochDropped(ILogger logger, string group, string sender);
}
