using Spectre.Console;

namespace PolyLoss.Cli;

/// <summary>Runs work with a progress bar on stderr when stderr is a terminal, the input is large and --quiet was
/// not given; otherwise runs it plainly.</summary>
internal static class ProgressRunner
{
    /// <summary>Inputs smaller than this (bytes) get no progress bar.</summary>
    public const long MinBytes = 8L << 20;

    /// <summary>Runs <paramref name="work"/>, which reports its progress as a fraction in [0, 1].</summary>
    public static T Run<T>(CliContext ctx, bool quiet, long totalBytes, string description, Func<Action<double>, T> work)
    {
        if (quiet || !ctx.ErrIsTerminal || totalBytes < MinBytes) return work(_ => { });
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Error),
            Interactive = InteractionSupport.Yes,
        });
        return console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(pc =>
            {
                ProgressTask task = pc.AddTask(Markup.Escape(description), maxValue: 1.0);
                T result = work(f => task.Value = f);
                task.Value = 1.0;
                return result;
            });
    }
}
