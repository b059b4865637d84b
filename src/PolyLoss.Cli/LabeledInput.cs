using System.Globalization;
using PolyLoss.Cli.IO;

namespace PolyLoss.Cli;

/// <summary>A logits file paired with a targets file (class indices) or a labels file (dense distributions), read
/// together in chunks of rows. Validates shapes, row counts and targets; counts NaNs.</summary>
internal sealed class LabeledInput : IDisposable
{
    /// <summary>Default rows per chunk.</summary>
    public const int DefaultChunkRows = 8192;

    /// <summary>Upper bound on values per chunk buffer (bounds memory for very wide rows).</summary>
    private const int MaxChunkValues = 1 << 22;

    private readonly double[] _targetRaw;

    private LabeledInput(MatrixReader logits, MatrixReader targets, bool dense, int chunkRows)
    {
        Logits = logits;
        Targets = targets;
        Dense = dense;
        NumClasses = logits.Columns;
        ChunkRows = Math.Max(1, Math.Min(chunkRows, MaxChunkValues / NumClasses));
        LogitsChunk = new double[ChunkRows * NumClasses];
        LabelsChunk = dense ? new double[ChunkRows * NumClasses] : [];
        _targetRaw = dense ? [] : new double[ChunkRows];
        KernelTargets = new int[ChunkRows];
        RowTargets = new int[ChunkRows];
    }

    /// <summary>The logits file.</summary>
    public MatrixReader Logits { get; }

    /// <summary>The targets or labels file.</summary>
    public MatrixReader Targets { get; }

    /// <summary>True for dense label distributions (--labels), false for class indices (--targets).</summary>
    public bool Dense { get; }

    /// <summary>Number of classes (last axis of the logits).</summary>
    public int NumClasses { get; }

    /// <summary>Rows per chunk.</summary>
    public int ChunkRows { get; }

    /// <summary>Logits of the current chunk, row-major.</summary>
    public double[] LogitsChunk { get; }

    /// <summary>Dense labels of the current chunk (empty for targets).</summary>
    public double[] LabelsChunk { get; }

    /// <summary>Targets of the current chunk as passed to the loss kernels (a NaN target is replaced by 0 there).</summary>
    public int[] KernelTargets { get; }

    /// <summary>The class each row of the current chunk counts as correct for accuracy (the target, or the argmax of
    /// the labels), or -1 when the row's target or labels contain NaN.</summary>
    public int[] RowTargets { get; }

    /// <summary>Rows read so far.</summary>
    public long RowsRead { get; private set; }

    /// <summary>NaN values seen in the logits.</summary>
    public long NaNLogits { get; private set; }

    /// <summary>NaN values seen in the targets or labels.</summary>
    public long NaNTargets { get; private set; }

    /// <summary>Fraction of the logits file consumed (for progress).</summary>
    public double Progress => Logits.TotalBytes <= 0 ? 1 : Math.Clamp((double)Logits.BytesRead / Logits.TotalBytes, 0, 1);

    /// <summary>Opens and cross-checks the two files.</summary>
    public static LabeledInput Open(string logitsPath, string targetsPath, bool dense, int chunkRows = DefaultChunkRows)
    {
        MatrixReader logits = MatrixReader.Open(logitsPath, ReadLayout.Matrix);
        MatrixReader? targets = null;
        try
        {
            targets = MatrixReader.Open(targetsPath, dense ? ReadLayout.Matrix : ReadLayout.Vector);
            if (dense && targets.Columns != logits.Columns)
            {
                throw new InputException(
                    $"{targetsPath}: labels have {targets.Columns} columns but {logitsPath} has {logits.Columns} classes");
            }
            if (logits.Rows >= 0 && targets.Rows >= 0 && logits.Rows != targets.Rows) throw Mismatch(logits, logits.Rows, targets, targets.Rows);
            return new LabeledInput(logits, targets, dense, chunkRows);
        }
        catch
        {
            logits.Dispose();
            targets?.Dispose();
            throw;
        }
    }

    private static InputException Mismatch(MatrixReader logits, long logitRows, MatrixReader targets, long targetRows)
    {
        string ls = logits.Shape is null ? "" : $" (shape {Npy.FormatShape(logits.Shape)})";
        string ts = targets.Shape is null ? "" : $" (shape {Npy.FormatShape(targets.Shape)})";
        return new InputException(
            $"row count mismatch: {logits.Path} has {logitRows} rows{ls} but {targets.Path} has {targetRows}{ts}");
    }

    /// <summary>Reads the next chunk; returns its row count, 0 at the end.</summary>
    /// <exception cref="InputException">Row-count mismatch, a target that is not an integer or is out of range.</exception>
    public int ReadChunk()
    {
        int c = NumClasses;
        int n = Logits.ReadRows(LogitsChunk, ChunkRows);
        int m = n == 0 ? 0 : Dense ? Targets.ReadRows(LabelsChunk, n) : Targets.ReadRows(_targetRaw, n);
        if (m < n) throw Mismatch(Logits, Logits.TotalRows(), Targets, Targets.RowsRead);
        if (n == 0)
        {
            long targetRows = Targets.TotalRows();
            if (targetRows != Logits.RowsRead) throw Mismatch(Logits, Logits.RowsRead, Targets, targetRows);
            return 0;
        }
        for (int i = 0; i < n * c; i++)
            if (double.IsNaN(LogitsChunk[i])) NaNLogits++;
        for (int r = 0; r < n; r++)
        {
            long row = RowsRead + r;
            if (Dense)
            {
                ReadOnlySpan<double> y = LabelsChunk.AsSpan(r * c, c);
                int nan = 0;
                foreach (double v in y)
                    if (double.IsNaN(v)) nan++;
                NaNTargets += nan;
                RowTargets[r] = nan > 0 ? -1 : CalibrationAccumulator.ArgMax(y);
                continue;
            }
            double t = _targetRaw[r];
            if (double.IsNaN(t))
            {
                NaNTargets++;
                RowTargets[r] = -1;
                KernelTargets[r] = 0;
                continue;
            }
            if (double.IsInfinity(t) || t != Math.Floor(t))
                throw new InputException($"{Targets.Path}: row {row}: target {Show(t)} is not an integer class index");
            if (t < 0 || t >= c)
                throw new InputException($"{Targets.Path}: row {row}: target {Show(t)} is out of range for {c} classes (valid: 0..{c - 1})");
            RowTargets[r] = KernelTargets[r] = (int)t;
        }
        RowsRead += n;
        return n;
    }

    private static string Show(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>One-line warnings about NaNs seen so far (empty when none).</summary>
    public IEnumerable<string> NaNWarnings()
    {
        if (NaNLogits > 0)
            yield return $"warning: {Logits.Path}: {NaNLogits} NaN value{(NaNLogits == 1 ? "" : "s")}; rows with NaN have NaN loss and are left out of the summary";
        if (NaNTargets > 0)
        {
            string what = Dense ? "labels" : "targets";
            yield return $"warning: {Targets.Path}: {NaNTargets} NaN {what}; those rows get NaN loss (zero gradient for NaN targets) and are left out of the summary";
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Logits.Dispose();
        Targets.Dispose();
    }
}
