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
}
