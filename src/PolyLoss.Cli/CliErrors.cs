namespace PolyLoss.Cli;

/// <summary>A mistake in the command line (exit code 2). The message is printed as one line, without a stack trace.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>A problem with an input file or its data, or with writing an output (exit code 1).
/// The message names the file and the problem and is printed as one line, without a stack trace.</summary>
internal sealed class InputException(string message) : Exception(message);

/// <summary>Exit codes of the tool.</summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>Bad input data or file (missing, corrupt, mismatched, out of range), or an output that cannot be written.</summary>
    public const int InputError = 1;

    /// <summary>Bad command line: unknown command or option, missing or malformed value.</summary>
    public const int UsageError = 2;
}
