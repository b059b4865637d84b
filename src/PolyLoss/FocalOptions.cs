namespace PolyLoss;

/// <summary>
/// Options of the Poly-1 focal losses <see cref="Poly.SigmoidFocal(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, FocalOptions, Span{float})"/>
/// and <see cref="Poly.SoftmaxFocal(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float}, int, FocalOptions, Span{float})"/>:
/// <c>FL = alpha_t (1 - pt)^gamma CE + epsilon (1 - pt)^(gamma + 1)</c> (Leng et al., ICLR 2022, section 4.3).
/// </summary>
public sealed class FocalOptions
{
    /// <summary>The focusing parameter gamma &gt;= 0 (default 2, the focal-loss paper's value). 0 turns the focal loss into
    /// (Poly-1) cross entropy; non-integer values are allowed, with <c>0^0 = 1</c>.</summary>
    public double Gamma { get; init; } = 2.0;

    /// <summary>Sigmoid focal loss only: the positive-class weight alpha in [0, 1], giving
    /// <c>alpha_t = alpha t + (1 - alpha)(1 - t)</c> (0.25 in the RetinaNet paper). Null (default) means alpha_t = 1.
    /// Multiplies the focal cross-entropy term only, not the epsilon term.</summary>
    public double? Alpha { get; init; }

    /// <summary>Softmax focal loss only: per-class weights alpha_k (length numClasses, finite, non-negative; usually in
    /// [0, 1]), giving <c>alpha_t = ClassAlpha[t]</c> for a row of target t. Null (default) means alpha_t = 1.
    /// Multiplies the focal cross-entropy term only, not the epsilon term.</summary>
    public double[]? ClassAlpha { get; init; }

    /// <summary>The Poly-1 coefficient epsilon (finite; default 1.0, the default of the common PyTorch ports of Poly-1 focal loss).
    /// The paper found epsilon = -1 best for RetinaNet on COCO.</summary>
    public double Epsilon { get; init; } = 1.0;

    /// <summary>How the losses are reduced (default <see cref="PolyLoss.Reduction.None"/>). Mean averages over all elements
    /// for the sigmoid loss and over rows for the softmax loss (unweighted, also with alpha); the mean of nothing is NaN.</summary>
    public Reduction Reduction { get; init; } = Reduction.None;

    /// <summary>Upper bound on the number of threads used; -1 (default) uses every core, 1 forces a single thread.
    /// Results are bit-identical whatever the value.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Default options: gamma 2, no alpha, epsilon 1, no reduction.</summary>
    public static FocalOptions Default { get; } = new();
}
