using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using PolyLoss.Cli.Demo;

namespace PolyLoss.Cli.Commands;

/// <summary><c>polyloss demo</c>: trains a small classifier on the embedded optdigits data with plain cross entropy
/// and Poly-1 at several epsilons over several seeds, prints test accuracy and ECE (mean ± std) and plots them.</summary>
internal static class DemoCommand
{
    internal const string Help = """
        polyloss demo [options]

        Trains a 64-64-10 ReLU network (mini-batch Adam, gradients from the library's fused Poly-1 kernel) on the
        embedded UCI optdigits data, once per epsilon and seed, and compares plain cross entropy (epsilon 0) with
        Poly-1: test accuracy and expected calibration error (15 bins) as mean ± std over the seeds. Writes a PNG with
        accuracy and ECE against epsilon and the training curves.

          --imbalanced          train on a long-tailed subset: class k keeps ratio^(-k/9) of its rows (test set unchanged)
          --imbalance-ratio R   head-to-tail ratio for --imbalanced (default 100; implies --imbalanced)
          --epsilons LIST       comma-separated epsilons (default -1,0,1,2,5; 0 is plain cross entropy)
          --seeds N             runs per epsilon (default 5)
          --epochs N            training epochs (default 30; with --imbalanced, as many as give the same number of
                                optimizer steps as 30 epochs on the full training set)
          --hidden N            hidden units (default 64)
          --plot FILE           PNG to write (default demo.png)
          --no-plot             do not write a PNG
          --threads N           trainings run in parallel (default: the number of cores; results do not depend on it)
          --json                print the results as JSON
          --quiet               no progress messages on stderr
        """;

    private static readonly string[] ValueOptions = ["imbalance-ratio", "epsilons", "seeds", "epochs", "hidden", "plot", "threads"];
    private static readonly string[] Flags = ["imbalanced", "no-plot", "json", "quiet", "help"];

    /// <summary>Results per epsilon.</summary>
    internal sealed record EpsilonResult(double Epsilon, TrainResult[] Runs)
    {
        public (double Mean, double Std) Accuracy => MeanStd(Runs.Select(r => r.TestAccuracy));

        public (double Mean, double Std) Ece => MeanStd(Runs.Select(r => r.TestEce));

        public (double Mean, double Std) CrossEntropy => MeanStd(Runs.Select(r => r.TestCrossEntropy));

        public double[] MeanCurve(Func<TrainResult, double[]> pick)
        {
            int epochs = pick(Runs[0]).Length;
            double[] m = new double[epochs];
            foreach (TrainResult r in Runs)
                for (int e = 0; e < epochs; e++) m[e] += pick(r)[e] / Runs.Length;
            return m;
        }
    }

    /// <summary>Mean and sample standard deviation (0 for a single value).</summary>
    internal static (double Mean, double Std) MeanStd(IEnumerable<double> values)
    {
        double[] v = values.ToArray();
        double mean = v.Average();
        double ss = v.Sum(x => (x - mean) * (x - mean));
        return (mean, v.Length > 1 ? Math.Sqrt(ss / (v.Length - 1)) : 0);
    }

    /// <summary>Runs the command.</summary>
    public static int Run(string[] argv, CliContext ctx)
    {
        Args a = Args.Parse("demo", argv, ValueOptions, Flags);
        if (a.Has("help"))
        {
            ctx.Out.WriteLine(Help);
            return ExitCodes.Ok;
        }
        double[] epsilons = a.GetDoubleList("epsilons", [-1, 0, 1, 2, 5]);
        int seeds = a.GetInt("seeds", 5, 1, 100);
        int epochs = a.GetInt("epochs", 30, 1, 1000);
        int hiddenUnits = a.GetInt("hidden", 64, 1, 4096);
        int threads = a.GetInt("threads", Environment.ProcessorCount, 1, 1024);
        bool imbalanced = a.Has("imbalanced") || a.Get("imbalance-ratio") is not null;
        double ratio = a.GetDouble("imbalance-ratio", 100);
        if (ratio < 1) throw new UsageException("demo: --imbalance-ratio must be at least 1");
        bool noPlot = a.Has("no-plot");
        string? plotPath = a.Get("plot");
        if (noPlot && plotPath is not null) throw new UsageException("demo: give either --plot or --no-plot, not both");
        plotPath ??= noPlot ? null : "demo.png";
        if (plotPath is not null && !Path.GetExtension(plotPath).Equals(".png", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"demo: --plot {plotPath}: the file name must end in .png");
        if (plotPath is not null)
        {
            string? dir = Path.GetDirectoryName(Path.GetFullPath(plotPath));
            if (dir is not null && !Directory.Exists(dir)) throw new InputException($"{plotPath}: output directory {dir} does not exist");
        }
        bool quiet = a.Has("quiet") || a.Has("json");

        var clock = Stopwatch.StartNew();
        Dataset train = OptDigits.Train();
        Dataset test = OptDigits.Test();
        if (imbalanced)
        {
            int fullRows = train.Rows;
            train = train.LongTailed(ratio);
            // Same number of optimizer steps as the balanced default unless --epochs was given.
            if (a.Get("epochs") is null) epochs = (int)Math.Min(1000, Math.Round(30.0 * fullRows / train.Rows));
        }

        var jobs = (from e in epsilons from s in Enumerable.Range(0, seeds) select new TrainConfig(e, 1000 + s, hiddenUnits, epochs)).ToArray();
        var results = new TrainResult[jobs.Length];
        int done = 0;
        if (!quiet) ctx.Err.WriteLine($"polyloss demo: {jobs.Length} training runs ({epsilons.Length} epsilons x {seeds} seeds) on {threads} thread(s)...");
        Parallel.For(0, jobs.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            results[i] = Mlp.Train(train, test, jobs[i]);
            int d = Interlocked.Increment(ref done);
            if (!quiet && ctx.ErrIsTerminal) lock (ctx.Err) ctx.Err.Write($"\r  {d}/{jobs.Length} runs done");
        });
        if (!quiet && ctx.ErrIsTerminal) ctx.Err.WriteLine();
        EpsilonResult[] byEps = epsilons
            .Select((e, j) => new EpsilonResult(e, results.Skip(j * seeds).Take(seeds).ToArray()))
            .ToArray();
        double trainSeconds = clock.Elapsed.TotalSeconds;

        var setup = new DemoSetup(train, test, imbalanced, ratio, hiddenUnits, epochs, seeds, jobs[0].BatchSize, jobs[0].LearningRate);
        if (plotPath is not null) DemoPlot.Save(plotPath, setup, byEps);
        ctx.Out.Write(a.Has("json") ? ToJson(setup, byEps, plotPath, trainSeconds) : ToText(setup, byEps, plotPath, trainSeconds));
        return ExitCodes.Ok;
    }

    /// <summary>What the demo trained on and how.</summary>
    internal sealed record DemoSetup(Dataset Train, Dataset Test, bool Imbalanced, double Ratio, int Hidden, int Epochs, int Seeds, int BatchSize, float LearningRate)
    {
        public string DataLine => Imbalanced
            ? $"train {Train.Rows} rows, long-tailed (ratio {Ratio.ToString("0.##", CultureInfo.InvariantCulture)}: per class {string.Join(" ", Train.ClassCounts())}); test {Test.Rows} rows"
            : $"train {Train.Rows} rows (balanced); test {Test.Rows} rows";

        public string ModelLine =>
            $"model: MLP 64-{Hidden}-10 (ReLU), Adam lr {LearningRate.ToString(CultureInfo.InvariantCulture)}, batch {BatchSize}, {Epochs} epochs, {Seeds} seed{(Seeds == 1 ? "" : "s")} per epsilon";
    }

    private static string Label(double eps) => eps == 0 ? "CE" : "Poly-1";

    private static string ToText(DemoSetup s, EpsilonResult[] byEps, string? plotPath, double seconds)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("data: " + OptDigits.Citation);
        sb.AppendLine("      " + s.DataLine);
        sb.AppendLine(s.ModelLine);
        sb.AppendLine();
        sb.AppendLine($"{"epsilon",8}  {"loss",-6}  {"test accuracy",-17}  {"ECE (15 bins)",-17}  {"test CE",-17}");
        foreach (EpsilonResult r in byEps)
        {
            sb.AppendLine(inv, $"{EvalSummary.F(r.Epsilon),8}  {Label(r.Epsilon),-6}  {Pm(r.Accuracy),-17}  {Pm(r.Ece),-17}  {Pm(r.CrossEntropy),-17}");
        }
        sb.AppendLine();
        EpsilonResult? ce = byEps.FirstOrDefault(r => r.Epsilon == 0);
        EpsilonResult best = byEps.MaxBy(r => r.Accuracy.Mean)!;
        if (ce is not null)
        {
            double diff = best.Accuracy.Mean - ce.Accuracy.Mean;
            sb.AppendLine(best == ce
                ? string.Create(inv, $"best mean test accuracy: plain cross entropy ({ce.Accuracy.Mean:0.0000})")
                : string.Create(inv, $"best mean test accuracy: epsilon {EvalSummary.F(best.Epsilon)} ({best.Accuracy.Mean:0.0000}, {diff * 100:+0.00;-0.00} points vs cross entropy; {(diff < Math.Max(best.Accuracy.Std, ce.Accuracy.Std) ? "within" : "beyond")} the seed-to-seed std of {Math.Max(best.Accuracy.Std, ce.Accuracy.Std):0.0000})"));
            EpsilonResult calibrated = byEps.MinBy(r => r.Ece.Mean)!;
            sb.AppendLine(string.Create(inv, $"lowest mean ECE: {(calibrated == ce ? "plain cross entropy" : "epsilon " + EvalSummary.F(calibrated.Epsilon))} ({calibrated.Ece.Mean:0.0000}; cross entropy {ce.Ece.Mean:0.0000})"));
        }
        sb.AppendLine(inv, $"training time {seconds:0.0} s");
        if (!s.Imbalanced) sb.AppendLine("long-tailed variant: polyloss demo --imbalanced [--imbalance-ratio 100]");
        if (plotPath is not null) sb.AppendLine("plot written: " + plotPath);
        return sb.ToString();
    }

    private static string Pm((double Mean, double Std) v) => string.Create(CultureInfo.InvariantCulture, $"{v.Mean:0.0000} ± {v.Std:0.0000}");

    private static string ToJson(DemoSetup s, EpsilonResult[] byEps, string? plotPath, double seconds)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("data", OptDigits.Citation);
            w.WriteBoolean("imbalanced", s.Imbalanced);
            if (s.Imbalanced) w.WriteNumber("imbalanceRatio", s.Ratio);
            w.WriteNumber("trainRows", s.Train.Rows);
            w.WriteNumber("testRows", s.Test.Rows);
            w.WriteNumber("hidden", s.Hidden);
            w.WriteNumber("epochs", s.Epochs);
            w.WriteNumber("seeds", s.Seeds);
            w.WriteStartArray("results");
            foreach (EpsilonResult r in byEps)
            {
                w.WriteStartObject();
                w.WriteNumber("epsilon", r.Epsilon);
                w.WriteNumber("accuracyMean", r.Accuracy.Mean);
                w.WriteNumber("accuracyStd", r.Accuracy.Std);
                w.WriteNumber("eceMean", r.Ece.Mean);
                w.WriteNumber("eceStd", r.Ece.Std);
                w.WriteNumber("testCrossEntropyMean", r.CrossEntropy.Mean);
                w.WriteStartArray("accuracy");
                foreach (TrainResult t in r.Runs) w.WriteNumberValue(t.TestAccuracy);
                w.WriteEndArray();
                w.WriteStartArray("ece");
                foreach (TrainResult t in r.Runs) w.WriteNumberValue(t.TestEce);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (plotPath is null) w.WriteNull("plot");
            else w.WriteString("plot", plotPath);
            w.WriteNumber("trainingSeconds", Math.Round(seconds, 2));
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + Environment.NewLine;
    }
}
