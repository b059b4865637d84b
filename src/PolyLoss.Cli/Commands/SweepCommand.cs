using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PolyLoss.Cli.Commands;

/// <summary><c>polyloss sweep</c>: mean Poly-1 loss and the share carried by the polynomial term, per epsilon.</summary>
internal static class SweepCommand
{
    internal const string Help = """
        polyloss sweep --logits FILE (--targets FILE | --labels FILE) [--epsilons LIST] [--json] [--quiet]

        One pass over the data; for each epsilon prints the mean Poly-1 loss, its cross-entropy part, the polynomial
        term epsilon * mean(1 - p_target) and that term's share of the loss.

          --logits FILE     logits [rows, classes] (.npy or .csv)
          --targets FILE    class indices, one per row (.npy or CSV one per line)
          --labels FILE     dense label distributions [rows, classes] instead of --targets
          --epsilons LIST   comma-separated epsilons (default -1,0,1,2,5)
          --json            print the table as JSON
          --precision P     float32 or float64 kernels (default: float32 for float16/float32 .npy logits, else float64)
          --quiet           no progress bar
          --chunk-rows N    rows per processing chunk (default 8192)
        """;

    private static readonly string[] ValueOptions = ["logits", "targets", "labels", "epsilons", "chunk-rows", "precision"];
    private static readonly string[] Flags = ["json", "quiet", "help"];

    /// <summary>Runs the command.</summary>
    public static int Run(string[] argv, CliContext ctx)
    {
        Args a = Args.Parse("sweep", argv, ValueOptions, Flags);
        if (a.Has("help"))
        {
            ctx.Out.WriteLine(Help);
            return ExitCodes.Ok;
        }
        string logitsPath = a.Require("logits");
        (string targetsPath, bool dense) = EvalCommand.TargetOption(a);
        double[] epsilons = a.GetDoubleList("epsilons", [-1, 0, 1, 2, 5]);
        int chunkRows = a.GetInt("chunk-rows", LabeledInput.DefaultChunkRows, 1, 1 << 24);
        Precision.Validate(a);

        using LabeledInput input = LabeledInput.Open(logitsPath, targetsPath, dense, chunkRows);
        int c = input.NumClasses;
        int chunk = input.ChunkRows;
        var scorer = new ChunkScorer(input, Precision.Single(a, input.Logits), gradient: false);
        var stats = epsilons.Select(_ => new RunningStats()).ToArray();
        var ceStats = new RunningStats();
        var calib = new CalibrationAccumulator();
        double[] ce = new double[chunk];
        double[][] losses = epsilons.Select(_ => new double[chunk]).ToArray();

        ProgressRunner.Run(ctx, a.Has("quiet"), input.Logits.TotalBytes, $"sweep {Path.GetFileName(logitsPath)}", report =>
        {
            int n;
            while ((n = input.ReadChunk()) > 0)
            {
                ReadOnlySpan<double> z = input.LogitsChunk.AsSpan(0, n * c);
                scorer.Load(n);
                scorer.Losses(n, 0.0, ce);
                for (int j = 0; j < epsilons.Length; j++) scorer.Losses(n, epsilons[j], losses[j]);
                for (int r = 0; r < n; r++)
                {
                    int target = input.RowTargets[r];
                    if (target < 0 || double.IsNaN(ce[r])) continue;
                    ceStats.Add(ce[r]);
                    calib.Add(z.Slice(r * c, c), target);
                    for (int j = 0; j < epsilons.Length; j++) stats[j].Add(losses[j][r]);
                }
                report(input.Progress);
            }
            return 0;
        });
        foreach (string w in input.NaNWarnings()) ctx.Err.WriteLine("polyloss: " + w);
        ctx.Out.Write(a.Has("json")
            ? ToJson(logitsPath, input.RowsRead, c, ceStats, calib, epsilons, stats)
            : ToText(logitsPath, input.RowsRead, c, ceStats, calib, epsilons, stats));
        return ExitCodes.Ok;
    }

    private static string ToText(string logits, long rows, int c, RunningStats ce, CalibrationAccumulator calib, double[] eps, RunningStats[] stats)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"{logits}: {rows} rows{(ce.Count != rows ? $" ({ce.Count} scored, {rows - ce.Count} with NaN left out)" : "")}, {c} classes, accuracy {EvalSummary.F(calib.Accuracy)}, ECE {EvalSummary.F(calib.Ece)}");
        sb.AppendLine();
        sb.AppendLine($"{"epsilon",10}  {"mean loss",12}  {"cross entropy",13}  {"poly term",12}  {"poly share",10}");
        for (int j = 0; j < eps.Length; j++)
        {
            double poly = stats[j].Mean - ce.Mean;
            sb.AppendLine(inv, $"{EvalSummary.F(eps[j]),10}  {EvalSummary.F(stats[j].Mean),12}  {EvalSummary.F(ce.Mean),13}  {EvalSummary.F(poly),12}  {EvalSummary.Pct(poly / stats[j].Mean),10}");
        }
        return sb.ToString();
    }

    private static string ToJson(string logits, long rows, int c, RunningStats ce, CalibrationAccumulator calib, double[] eps, RunningStats[] stats)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("logits", logits);
            w.WriteNumber("rows", rows);
            w.WriteNumber("scoredRows", ce.Count);
            w.WriteNumber("classes", c);
            EvalSummary.Num(w, "meanCrossEntropy", ce.Mean);
            EvalSummary.Num(w, "accuracy", calib.Accuracy);
            EvalSummary.Num(w, "ece", calib.Ece);
            w.WriteStartArray("sweep");
            for (int j = 0; j < eps.Length; j++)
            {
                double poly = stats[j].Mean - ce.Mean;
                w.WriteStartObject();
                EvalSummary.Num(w, "epsilon", eps[j]);
                EvalSummary.Num(w, "meanLoss", stats[j].Mean);
                EvalSummary.Num(w, "meanPolyTerm", poly);
                EvalSummary.Num(w, "polyShare", poly / stats[j].Mean);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + Environment.NewLine;
    }
}
