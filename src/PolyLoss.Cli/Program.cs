namespace PolyLoss.Cli;

/// <summary>Entry point of the polyloss tool.</summary>
public static class Program
{
    /// <summary>Runs the tool.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <returns>The process exit code: 0 success, 1 input or data error, 2 usage error.</returns>
    public static int Main(string[] args) => Cli.Run(args, Console.Out, Console.Error);
}
