using System.Globalization;
using System.Text;
using System.Text.Json;
using PolyLoss.Cli.IO;

namespace PolyLoss.Cli.Commands;

/// <summary><c>polyloss eval</c>: per-row Poly-1 losses, the logits gradient of their sum, and a summary.</summary>
internal static class EvalCommand
{
    internal const string Help = """
        polyloss eval --logits FILE (--targets FILE | --labels FILE) [options]

        Scores saved logits with Poly-1 cross entropy, L = CE + epsilon * (1 - p_target), and prints a summary:
        rows, classes, mean/min/max loss, mean plain cross entropy, accuracy (argmax vs target) and the expected
        calibration error (15 equal-width confidence bins).

          --logits FILE     logits [rows, classes] (.npy or .csv); more axes: the last one holds the classes
          --targets FILE    class indices, one per row (int or integral float .npy, or CSV one per line)
          --labels FILE     dense label distributions [rows, classes] instead of --targets
          --epsilon E       Poly-1 epsilon (default 2; 0 = plain cross entropy)
          --out FILE        write the per-row losses (.npy or .csv, by extension)
          --grad-out FILE   write the gradient of the summed loss w.r.t. the logits (same shape as the logits)
          --json            print the summary as JSON
          --precision P     float32 or float64 computation and output (default: float32 for float16/float32
                            .npy logits, float64 for everything else)
          --quiet           no progress bar
          --chunk-rows N    rows per processing chunk (default 8192)
        """;

    private static readonly string[] ValueOptions = ["logits", "targets", "labels", "epsilon", "out", "grad-out", "chunk-rows", "precision"];
    private static readonly string[] Flags = ["json", "quiet", "help"];

    /// <summary>Runs the command.</summary>
    public static int Run(string[] argv, CliContext ctx)
    {
        Args a = Args.Parse("eval", argv, ValueOptions, Flags);
        if (a.Has("help"))
        {
            ctx.Out.WriteLine(Help);
            return ExitCodes.Ok;
        }
        string logitsPath = a.Require("logits");
        (string targetsPath, bool dense) = TargetOption(a);
        double epsilon = a.GetDouble("epsilon", 2.0);
        int chunkRows = a.GetInt("chunk-rows", LabeledInput.DefaultChunkRows, 1, 1 << 24);
        Precision.Validate(a);
        string? outPath = a.Get("out");
        string? gradPath = a.Get("grad-out");
        OutputPaths.Check([("--out", outPath), ("--grad-out", gradPath)], [logitsPath, targetsPath]);

        using LabeledInput input = LabeledInput.Open(logitsPath, targetsPath, dense, chunkRows);
        int c = input.NumClasses;
        bool single = Precision.Single(a, input.Logits);
        NpyDType outType = single ? NpyDType.Float32 : NpyDType.Float64;
        var scorer = new ChunkScorer(input, single, gradient: gradPath is not null);
        using MatrixWriter? lossWriter = outPath is null ? null
            : MatrixWriter.Create(outPath, outType, 1, input.Logits.Shape is { } s ? s[..^1] : null, vector: true);
        using MatrixWriter? gradWriter = gradPath is null ? null
            : MatrixWriter.Create(gradPath, outType, c, input.Logits.Shape, vector: false);

        var lossStats = new RunningStats();
        var ceStats = new RunningStats();
        var calib = new CalibrationAccumulator();
        int chunk = input.ChunkRows;
        double[] losses = new double[chunk];
        double[] ce = new double[chunk];
        double[] grad = gradWriter is null ? [] : new double[chunk * c];

        ProgressRunner.Run(ctx, a.Has("quiet"), input.Logits.TotalBytes, $"eval {Path.GetFileName(logitsPath)}", report =>
        {
            int n;
            while ((n = input.ReadChunk()) > 0)
            {
                ReadOnlySpan<double> z = input.LogitsChunk.AsSpan(0, n * c);
                Span<double> l = losses.AsSpan(0, n), e = ce.AsSpan(0, n);
                scorer.Load(n);
                if (gradWriter is null) scorer.Losses(n, epsilon, l);
                else scorer.LossesAndGradient(n, epsilon, l, grad);
                scorer.Losses(n, 0.0, e);
                for (int r = 0; r < n; r++)
                {
                    int target = input.RowTargets[r];
                    if (!dense && target < 0)
                    {
                        // NaN target: no loss, no gradient.
                        l[r] = double.NaN;
                        e[r] = double.NaN;
                        if (gradWriter is not null) grad.AsSpan(r * c, c).Clear();
                        continue;
                    }
                    if (target < 0 || double.IsNaN(l[r]) || double.IsNaN(e[r])) continue;
                    lossStats.Add(l[r]);
                    ceStats.Add(e[r]);
                    calib.Add(z.Slice(r * c, c), target);
                }
                lossWriter?.WriteRows(l, n);
                gradWriter?.WriteRows(grad, n);
                report(input.Progress);
            }
            return 0;
        });

        lossWriter?.Commit();
        gradWriter?.Commit();
        foreach (string w in input.NaNWarnings()) ctx.Err.WriteLine("polyloss: " + w);

        var summary = new EvalSummary(logitsPath, input.Logits.Description, targetsPath, dense, input.RowsRead, c, epsilon,
            lossStats, ceStats, calib, outPath, gradPath);
        ctx.Out.Write(a.Has("json") ? summary.ToJson() : summary.ToText());
        return ExitCodes.Ok;
    }

    /// <summary>The --targets or --labels option (exactly one).</summary>
    internal static (string Path, bool Dense) TargetOption(Args a)
    {
        string? targets = a.Get("targets"), labels = a.Get("labels");
        if (targets is not null && labels is not null) throw new UsageException($"{a.Command}: give either --targets or --labels, not both");
        if (targets is null && labels is null) throw new UsageException($"{a.Command}: --targets FILE (class indices) or --labels FILE (dense distributions) is required");
        return targets is not null ? (targets, false) : (labels!, true);
    }
}

/// <summary>What <c>eval</c> prints.</summary>
internal sealed record EvalSummary(
    string LogitsPath, string LogitsDescription, string TargetsPath, bool Dense, long Rows, int Classes, double Epsilon,
    RunningStats Loss, RunningStats CrossEntropy, CalibrationAccumulator Calibration, string? OutPath, string? GradPath)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Human-readable summary.</summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        sb.AppendLine(Inv, $"logits          {LogitsPath} ({LogitsDescription})");
        sb.AppendLine(Inv, $"{(Dense ? "labels " : "targets"),-15} {TargetsPath}");
        sb.AppendLine(Inv, $"rows            {Rows}");
        if (Loss.Count != Rows) sb.AppendLine(Inv, $"scored rows     {Loss.Count} ({Rows - Loss.Count} with NaN left out)");
        sb.AppendLine(Inv, $"classes         {Classes}");
        sb.AppendLine(Inv, $"epsilon         {F(Epsilon)}");
        sb.AppendLine(Inv, $"poly-1 loss     mean {F(Loss.Mean)}   min {F(Loss.Min)}   max {F(Loss.Max)}");
        sb.AppendLine(Inv, $"cross entropy   mean {F(CrossEntropy.Mean)}   (epsilon 0)");
        double poly = Loss.Mean - CrossEntropy.Mean;
        sb.AppendLine(Inv, $"poly term       mean {F(poly)}   ({Pct(poly / Loss.Mean)} of the loss)");
        sb.AppendLine(Inv, $"accuracy        {F(Calibration.Accuracy)}");
        sb.AppendLine(Inv, $"ECE (15 bins)   {F(Calibration.Ece)}");
        if (OutPath is not null) sb.AppendLine(Inv, $"losses written  {OutPath}");
        if (GradPath is not null) sb.AppendLine(Inv, $"gradient        {GradPath}");
        return sb.ToString();
    }

    /// <summary>Machine-readable summary (NaN is written as null).</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("logits", LogitsPath);
            w.WriteString(Dense ? "labels" : "targets", TargetsPath);
            w.WriteNumber("rows", Rows);
            w.WriteNumber("scoredRows", Loss.Count);
            w.WriteNumber("classes", Classes);
            Num(w, "epsilon", Epsilon);
            Num(w, "meanLoss", Loss.Mean);
            Num(w, "minLoss", Loss.Min);
            Num(w, "maxLoss", Loss.Max);
            Num(w, "meanCrossEntropy", CrossEntropy.Mean);
            Num(w, "meanPolyTerm", Loss.Mean - CrossEntropy.Mean);
            Num(w, "accuracy", Calibration.Accuracy);
            Num(w, "ece", Calibration.Ece);
            w.WriteNumber("eceBins", CalibrationAccumulator.DefaultBins);
            if (OutPath is null) w.WriteNull("out");
            else w.WriteString("out", OutPath);
            if (GradPath is null) w.WriteNull("gradOut");
            else w.WriteString("gradOut", GradPath);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + Environment.NewLine;
    }

    internal static void Num(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    internal static string F(double v) => double.IsNaN(v) ? "nan" : v.ToString("0.######", Inv);

    internal static string Pct(double v) => double.IsFinite(v) ? (100 * v).ToString("0.0", Inv) + "%" : "n/a";
}

/// <summary>The --precision option: which of the library's kernels (float32 or float64) score the data.</summary>
internal static class Precision
{
    /// <summary>Checks the option's value early (before files are opened).</summary>
    public static void Validate(Args a)
    {
        string? p = a.Get("precision");
        if (p is not null and not ("float32" or "float64" or "auto"))
            throw new UsageException($"{a.Command}: --precision must be float32, float64 or auto, got '{p}'");
    }

    /// <summary>True for float32: asked for, or auto with float16/float32 .npy logits.</summary>
    public static bool Single(Args a, IO.MatrixReader logits) => a.Get("precision") switch
    {
        "float32" => true,
        "float64" => false,
        _ => logits.DType is NpyDType.Float16 or NpyDType.Float32,
    };
}
