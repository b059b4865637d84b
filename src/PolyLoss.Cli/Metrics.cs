namespace PolyLoss.Cli;

/// <summary>Classification metrics from logits: argmax accuracy and the expected calibration error
/// (confidence = max softmax probability, equal-width bins over (0, 1], ECE = sum_b (n_b / N) |acc_b - conf_b|).</summary>
internal sealed class CalibrationAccumulator
{
    /// <summary>The usual number of bins.</summary>
    public const int DefaultBins = 15;

    private readonly long[] _count;
    private readonly double[] _sumConfidence;
    private readonly long[] _correct;

    public CalibrationAccumulator(int bins = DefaultBins)
    {
        _count = new long[bins];
        _sumConfidence = new double[bins];
        _correct = new long[bins];
    }

    /// <summary>Rows counted.</summary>
    public long Count { get; private set; }

    /// <summary>Rows whose argmax equals the target.</summary>
    public long Correct { get; private set; }

    /// <summary>Fraction of counted rows predicted correctly (NaN when none).</summary>
    public double Accuracy => Count == 0 ? double.NaN : (double)Correct / Count;

    /// <summary>Expected calibration error (NaN when no rows).</summary>
    public double Ece
    {
        get
        {
            if (Count == 0) return double.NaN;
            double s = 0;
            for (int b = 0; b < _count.Length; b++) s += Math.Abs(_correct[b] - _sumConfidence[b]);
            return s / Count;
        }
    }

    /// <summary>Adds one row: its logits and its target class.</summary>
    public void Add(ReadOnlySpan<double> logits, int target)
    {
        (int argmax, double confidence) = Confidence(logits);
        int bin = BinOf(confidence, _count.Length);
        bool ok = argmax == target;
        _count[bin]++;
        _sumConfidence[bin] += confidence;
        Count++;
        if (ok)
        {
            _correct[bin]++;
            Correct++;
        }
    }

    /// <summary>Bin index of a confidence in (0, 1]: bin b covers (b/B, (b+1)/B].</summary>
    public static int BinOf(double confidence, int bins) => Math.Clamp((int)Math.Ceiling(confidence * bins) - 1, 0, bins - 1);

    /// <summary>Index of the largest logit (first on ties) and the softmax probability there.</summary>
    public static (int ArgMax, double Confidence) Confidence(ReadOnlySpan<double> logits)
    {
        int arg = 0;
        double m = logits[0];
        for (int k = 1; k < logits.Length; k++)
        {
            if (logits[k] > m)
            {
                m = logits[k];
                arg = k;
            }
        }
        double s = 0;
        for (int k = 0; k < logits.Length; k++) s += Math.Exp(logits[k] - m);
        return (arg, 1.0 / s);
    }

    /// <summary>Index of the largest value (first on ties).</summary>
    public static int ArgMax(ReadOnlySpan<double> values)
    {
        int arg = 0;
        for (int k = 1; k < values.Length; k++)
            if (values[k] > values[arg]) arg = k;
        return arg;
    }
}

/// <summary>Running count, mean, min and max of a stream of values.</summary>
internal sealed class RunningStats
{
    /// <summary>Values added.</summary>
    public long Count { get; private set; }

    /// <summary>Sum of the values.</summary>
    public double Sum { get; private set; }

    /// <summary>Smallest value (NaN when none).</summary>
    public double Min { get; private set; } = double.NaN;

    /// <summary>Largest value (NaN when none).</summary>
    public double Max { get; private set; } = double.NaN;

    /// <summary>Mean (NaN when none).</summary>
    public double Mean => Count == 0 ? double.NaN : Sum / Count;

    /// <summary>Adds a value.</summary>
    public void Add(double v)
    {
        if (Count == 0 || v < Min) Min = v;
        if (Count == 0 || v > Max) Max = v;
        Sum += v;
        Count++;
    }
}
