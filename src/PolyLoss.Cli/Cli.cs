using System.Reflection;
using PolyLoss.Cli.Commands;

namespace PolyLoss.Cli;

/// <summary>The polyloss command line, callable in-process: <see cref="Run"/> takes the arguments and the two output
/// writers and returns the exit code (0 success, 1 input or data error, 2 usage error).</summary>
public static class Cli
{
    internal const string Usage = """
        polyloss - PolyLoss (Leng et al., ICLR 2022) for saved model outputs

        Usage:
          polyloss eval  --logits FILE (--targets FILE | --labels FILE) [--epsilon E] [--out FILE] [--grad-out FILE] [--json] [--quiet]
          polyloss sweep --logits FILE (--targets FILE | --labels FILE) [--epsilons -1,0,1,2,5] [--json] [--quiet]
          polyloss demo  [--imbalanced] [--imbalance-ratio R] [--seeds N] [--epochs N] [--epsilons LIST] [--plot FILE | --no-plot] [--json]
          polyloss --help | --version

        Files: .npy (float16/32/64, int32/64, little-endian, C order) or CSV (one row per line, optional header).
        Exit codes: 0 success, 1 input or data error, 2 usage error. 'polyloss COMMAND --help' shows a command's options.
        """;

    /// <summary>Runs the tool with <paramref name="args"/>, writing results to <paramref name="stdout"/> and messages to
    /// <paramref name="stderr"/>. Never throws for bad input: errors are one line on stderr and a non-zero exit code.</summary>
    /// <param name="args">Command-line arguments (without the program name).</param>
    /// <param name="stdout">Where results go.</param>
    /// <param name="stderr">Where warnings, errors and the progress bar go.</param>
    /// <returns>0 on success, 1 for an input or data error, 2 for a usage error.</returns>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
            {
                stdout.WriteLine(Usage);
                return args.Length == 0 ? ExitCodes.UsageError : ExitCodes.Ok;
            }
            if (args[0] is "--version")
            {
                stdout.WriteLine("polyloss " + (typeof(Cli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?"));
                return ExitCodes.Ok;
            }
            var ctx = new CliContext(stdout, stderr);
            string[] rest = args[1..];
            return args[0] switch
            {
                "eval" => EvalCommand.Run(rest, ctx),
                "sweep" => SweepCommand.Run(rest, ctx),
                "demo" => DemoCommand.Run(rest, ctx),
                _ => throw new UsageException($"unknown command '{args[0]}' (commands: eval, sweep, demo)"),
            };
        }
        catch (UsageException e)
        {
            stderr.WriteLine("polyloss: error: " + OneLine(e.Message));
            stderr.WriteLine("Run 'polyloss --help' for usage.");
            return ExitCodes.UsageError;
        }
        catch (InputException e)
        {
            stderr.WriteLine("polyloss: error: " + OneLine(e.Message));
            return ExitCodes.InputError;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OutOfMemoryException)
        {
            stderr.WriteLine("polyloss: error: " + OneLine(e.Message));
            return ExitCodes.InputError;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"polyloss: internal error ({e.GetType().Name}): {OneLine(e.Message)}");
            return ExitCodes.InputError;
        }
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}

/// <summary>Output writers and console facts shared by the commands.</summary>
internal sealed class CliContext(TextWriter stdout, TextWriter stderr)
{
    /// <summary>Results.</summary>
    public TextWriter Out { get; } = stdout;

    /// <summary>Warnings and progress.</summary>
    public TextWriter Err { get; } = stderr;

    /// <summary>True when stderr is this process's real, interactive standard error (a terminal).</summary>
    public bool ErrIsTerminal => ReferenceEquals(Err, Console.Error) && !Console.IsErrorRedirected;
}
