namespace PolyLoss;

/// <summary>
/// Options of the Poly family of cross-entropy losses, with the meanings of PyTorch's <c>CrossEntropyLoss</c>
/// where they overlap.
/// </summary>
public sealed class PolyLossOptions
{
    /// <summary>The Poly-1 coefficient epsilon (default 2.0, the paper's value for ImageNet; -1.0 is its value for detection).
    /// Ignored when <see cref="Coefficients"/> is set.</summary>
    public double Epsilon { get; init; } = 2.0;

    /// <summary>Poly-N coefficients eps_1..eps_N: L = CE + sum_j eps_j (1 - pt)^j. Null means Poly-1 with <see cref="Epsilon"/>.</summary>
    public double[]? Coefficients { get; init; }

    /// <summary>Per-class weights (length numClasses, non-negative), or null for none.</summary>
    public double[]? Weight { get; init; }

    /// <summary>Integer target value whose rows are ignored (loss 0, gradient 0, excluded from the mean). Default -100 as in PyTorch.</summary>
    public int IgnoreIndex { get; init; } = -100;

    /// <summary>Label smoothing in [0, 1]: targets become (1 - s) * y + s / numClasses.</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>How the row losses are reduced (default <see cref="PolyLoss.Reduction.None"/>).</summary>
    public Reduction Reduction { get; init; } = Reduction.None;

    /// <summary>Upper bound on the number of threads used; -1 (default) uses every core, 1 forces a single thread.
    /// Results are bit-identical whatever the value.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Default options: Poly-1 with epsilon 2, no weights, no smoothing, no reduction.</summary>
    public static PolyLossOptions Default { get; } = new();
}
