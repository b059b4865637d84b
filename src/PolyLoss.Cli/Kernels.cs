namespace PolyLoss.Cli;

/// <summary>The thin adapter through which every loss and gradient of the tool is computed: all calls go to the core
/// library's fused span kernels (<see cref="Poly.CrossEntropy(ReadOnlySpan{double}, ReadOnlySpan{int}, Span{double}, int, double)"/>
/// and <see cref="Poly.CrossEntropyWithGradient(ReadOnlySpan{double}, ReadOnlySpan{int}, Span{double}, Span{double}, int, double)"/>
/// and their twins). Nothing here computes a loss itself.</summary>
internal static class Kernels
{
    /// <summary>Poly-1 row losses for integer targets.</summary>
    public static void Losses(ReadOnlySpan<double> logits, ReadOnlySpan<int> targets, Span<double> losses, int numClasses, double epsilon)
        => Poly.CrossEntropy(logits, targets, losses, numClasses, epsilon);

    /// <summary>Poly-1 row losses for integer targets with at most <paramref name="maxThreads"/> threads.</summary>
    public static void Losses(ReadOnlySpan<double> logits, ReadOnlySpan<int> targets, Span<double> losses, int numClasses, double epsilon, int maxThreads)
        => Poly.CrossEntropy(logits, targets, losses, numClasses, new PolyLossOptions { Epsilon = epsilon, MaxDegreeOfParallelism = maxThreads });

    /// <summary>Poly-1 row losses for dense label distributions.</summary>
    public static void Losses(ReadOnlySpan<double> logits, ReadOnlySpan<double> labels, Span<double> losses, int numClasses, double epsilon)
        => Poly.CrossEntropy(logits, labels, losses, numClasses, epsilon);

    /// <summary>Row losses and the gradient of their sum with respect to the logits (integer targets).</summary>
    public static void LossesAndGradient(ReadOnlySpan<double> logits, ReadOnlySpan<int> targets, Span<double> losses, Span<double> gradient, int numClasses, double epsilon)
        => Poly.CrossEntropyWithGradient(logits, targets, losses, gradient, numClasses, epsilon);

    /// <summary>Row losses and the gradient of their sum with respect to the logits (dense labels).</summary>
    public static void LossesAndGradient(ReadOnlySpan<double> logits, ReadOnlySpan<double> labels, Span<double> losses, Span<double> gradient, int numClasses, double epsilon)
        => Poly.CrossEntropyWithGradient(logits, labels, losses, gradient, numClasses, epsilon);

    /// <summary>Single-precision mean Poly-1 loss over a batch and its gradient with respect to the logits
    /// (reduction Mean, fused in the library), single-threaded: used by the demo's training, which runs several
    /// trainings in parallel.</summary>
    /// <returns>The mean loss of the batch.</returns>
    public static float MeanLossAndGradient(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> gradient, int numClasses, PolyLossOptions meanSingleThreaded)
    {
        Span<float> mean = stackalloc float[1];
        Poly.CrossEntropyWithGradient(logits, targets, mean, gradient, numClasses, meanSingleThreaded);
        return mean[0];
    }

    /// <summary>Options for <see cref="MeanLossAndGradient"/>: Poly-1 at <paramref name="epsilon"/>, reduction Mean, one thread.</summary>
    public static PolyLossOptions MeanSingleThreaded(double epsilon)
        => new() { Epsilon = epsilon, Reduction = Reduction.Mean, MaxDegreeOfParallelism = 1 };

    /// <summary>Poly-1 row losses for integer targets, float32.</summary>
    public static void Losses(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> losses, int numClasses, double epsilon)
        => Poly.CrossEntropy(logits, targets, losses, numClasses, (float)epsilon);

    /// <summary>Poly-1 row losses for dense labels, float32.</summary>
    public static void Losses(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, Span<float> losses, int numClasses, double epsilon)
        => Poly.CrossEntropy(logits, labels, losses, numClasses, (float)epsilon);

    /// <summary>Row losses and the gradient of their sum (integer targets), float32.</summary>
    public static void LossesAndGradient(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> losses, Span<float> gradient, int numClasses, double epsilon)
        => Poly.CrossEntropyWithGradient(logits, targets, losses, gradient, numClasses, (float)epsilon);

    /// <summary>Row losses and the gradient of their sum (dense labels), float32.</summary>
    public static void LossesAndGradient(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, Span<float> losses, Span<float> gradient, int numClasses, double epsilon)
        => Poly.CrossEntropyWithGradient(logits, labels, losses, gradient, numClasses, (float)epsilon);
}

/// <summary>Scores chunks of a <see cref="LabeledInput"/> in the chosen precision: float32 chunks go to the library's
/// float32 kernels (converted here), float64 chunks to its float64 kernels. Results are handed back as doubles.</summary>
internal sealed class ChunkScorer
{
    private readonly LabeledInput _input;
    private readonly bool _single;
    private readonly float[] _z, _y, _l, _g;

    public ChunkScorer(LabeledInput input, bool singlePrecision, bool gradient)
    {
        _input = input;
        _single = singlePrecision;
        int chunk = input.ChunkRows, c = input.NumClasses;
        _z = singlePrecision ? new float[chunk * c] : [];
        _y = singlePrecision && input.Dense ? new float[chunk * c] : [];
        _l = singlePrecision ? new float[chunk] : [];
        _g = singlePrecision && gradient ? new float[chunk * c] : [];
    }

    /// <summary>True when computing in float32.</summary>
    public bool SinglePrecision => _single;

    /// <summary>Call once after each <see cref="LabeledInput.ReadChunk"/> (converts the chunk for float32).</summary>
    public void Load(int rows)
    {
        if (!_single) return;
        int n = rows * _input.NumClasses;
        Narrow(_input.LogitsChunk.AsSpan(0, n), _z);
        if (_input.Dense) Narrow(_input.LabelsChunk.AsSpan(0, n), _y);
    }

    private static void Narrow(ReadOnlySpan<double> src, Span<float> dst)
    {
        for (int i = 0; i < src.Length; i++) dst[i] = (float)src[i];
    }

    private static void Widen(ReadOnlySpan<float> src, Span<double> dst)
    {
        for (int i = 0; i < src.Length; i++) dst[i] = src[i];
    }

    /// <summary>Row losses of the loaded chunk at <paramref name="epsilon"/>.</summary>
    public void Losses(int rows, double epsilon, Span<double> losses)
    {
        int c = _input.NumClasses, n = rows * c;
        ReadOnlySpan<int> t = _input.KernelTargets.AsSpan(0, rows);
        if (_single)
        {
            Span<float> l = _l.AsSpan(0, rows);
            if (_input.Dense) Kernels.Losses(_z.AsSpan(0, n), _y.AsSpan(0, n), l, c, epsilon);
            else Kernels.Losses(_z.AsSpan(0, n), t, l, c, epsilon);
            Widen(l, losses[..rows]);
        }
        else if (_input.Dense) Kernels.Losses(_input.LogitsChunk.AsSpan(0, n), _input.LabelsChunk.AsSpan(0, n), losses[..rows], c, epsilon);
        else Kernels.Losses(_input.LogitsChunk.AsSpan(0, n), t, losses[..rows], c, epsilon);
    }

    /// <summary>Row losses and the gradient of their sum for the loaded chunk.</summary>
    public void LossesAndGradient(int rows, double epsilon, Span<double> losses, Span<double> gradient)
    {
        int c = _input.NumClasses, n = rows * c;
        ReadOnlySpan<int> t = _input.KernelTargets.AsSpan(0, rows);
        if (_single)
        {
            Span<float> l = _l.AsSpan(0, rows), g = _g.AsSpan(0, n);
            if (_input.Dense) Kernels.LossesAndGradient(_z.AsSpan(0, n), _y.AsSpan(0, n), l, g, c, epsilon);
            else Kernels.LossesAndGradient(_z.AsSpan(0, n), t, l, g, c, epsilon);
            Widen(l, losses[..rows]);
            Widen(g, gradient[..n]);
        }
        else if (_input.Dense) Kernels.LossesAndGradient(_input.LogitsChunk.AsSpan(0, n), _input.LabelsChunk.AsSpan(0, n), losses[..rows], gradient[..n], c, epsilon);
        else Kernels.LossesAndGradient(_input.LogitsChunk.AsSpan(0, n), t, losses[..rows], gradient[..n], c, epsilon);
    }
}
