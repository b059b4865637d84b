namespace PolyLoss.Cli.Commands;

/// <summary><c>polyloss demo</c>.</summary>
internal static class DemoCommand
{
    /// <summary>Runs the command.</summary>
    public static int Run(string[] argv, CliContext ctx) => throw new UsageException("demo: not yet");
}
