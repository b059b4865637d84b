using PolyLoss.Internal;

namespace PolyLoss;

public static partial class Poly
{
    /// <summary>
    /// Poly-1 sigmoid focal loss (multi-label / detection), element-wise, with its gradient fused:
    /// <c>FL = alpha_t (1 - pt)^gamma CE + epsilon (1 - pt)^(gamma + 1)</c>, where for logit x and target t in [0, 1]
    /// <c>p = sigmoid(x)</c>, <c>pt = t p + (1 - t)(1 - p)</c>,
    /// <c>CE = t softplus(-x) + (1 - t) softplus(x)</c> (binary cross entropy, softplus(x) = max(x, 0) + log1p(exp(-|x|))) and
    /// <c>alpha_t = alpha t + (1 - alpha)(1 - t)</c> (1 when <see cref="FocalOptions.Alpha"/> is null).
    /// </summary>
    /// <remarks>
    /// <para>Defaults (<see cref="FocalOptions.Default"/>): gamma = 2, no alpha, epsilon = 1 (the default of the common PyTorch
    /// ports; the paper found epsilon = -1 best for RetinaNet). With gamma = 0, epsilon = 0 and no alpha the result is the
    /// binary cross entropy above, bit for bit.</para>
    /// <para>Gradient: <c>dFL/dx = (1 - pt)^gamma [gamma (u'/u) F + alpha_t (p - t) + epsilon u']</c> with u = 1 - pt,
    /// u' = (1 - 2t) p (1 - p) and F = alpha_t CE + epsilon u; for t in {0, 1} it is evaluated in the cancellation-free
    /// form of <c>SoftmaxFocal</c> with two classes.</para>
    /// <para>Accuracy: 1 - pt is never formed by subtraction, the epsilon &lt; 0 case cancels the linear terms exactly,
    /// float32 results are computed in double and rounded once (within 1 ulp), float64 in double-double (within 4 ulp).
    /// Soft targets near the minimum of the loss give a gradient near 0, accurate in absolute rather than relative terms.</para>
    /// <para>Special values: x = +inf or -inf gives the limits: loss 0 and gradient 0 when the target is on that side,
    /// loss +inf and gradient -alpha_t (x = -inf, t = 1) or +alpha_t (x = +inf, t = 0) otherwise, and for a soft target loss +inf
    /// with gradient (1 - pt)^gamma alpha_t (p - t). A NaN logit or target makes that element's loss and gradient NaN and no
    /// other (a Mean or Sum is then NaN).</para>
    /// </remarks>
    /// <param name="logits">Logits, any shape, flattened.</param>
    /// <param name="targets">Targets of the same length, each in [0, 1] (or NaN); hard labels are 0 and 1.</param>
    /// <param name="losses">Receives one loss per element (length logits.Length) for <see cref="Reduction.None"/>, else the
    /// reduced value (length 1): Sum, or Mean over all elements (NaN for no elements).</param>
    /// <param name="options">Gamma, Alpha, Epsilon, Reduction, MaxDegreeOfParallelism (<see cref="FocalOptions.ClassAlpha"/> must be null).</param>
    /// <param name="logitsGradient">Optional (empty to skip): receives the gradient of the output with respect to the logits
    /// (of each element's loss for None, of the sum or mean for Sum or Mean), same length as the logits.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Gamma negative or not finite, Epsilon not finite, Alpha outside [0, 1],
    /// an unknown Reduction, or a target outside [0, 1] (the message names the index and the value).</exception>
    /// <exception cref="ArgumentException">A span length does not match, or ClassAlpha is set.</exception>
    public static void SigmoidFocal(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> losses, FocalOptions options, Span<float> logitsGradient = default)
        => FocalEngine.Sigmoid<float, R64>(logits, targets, losses, logitsGradient, options);

    /// <summary>Poly-1 sigmoid focal loss in float64 (double-double intermediates); see the float32 overload for the formulas.</summary>
    /// <inheritdoc cref="SigmoidFocal(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, FocalOptions, Span{float})"/>
    public static void SigmoidFocal(ReadOnlySpan<double> logits, ReadOnlySpan<double> targets, Span<double> losses, FocalOptions options, Span<double> logitsGradient = default)
        => FocalEngine.Sigmoid<double, R128>(logits, targets, losses, logitsGradient, options);

    /// <summary>
    /// Poly-1 softmax focal loss (multi-class, integer targets), one loss per row, with its gradient fused:
    /// <c>FL = -alpha_t (1 - pt)^gamma log pt + epsilon (1 - pt)^(gamma + 1)</c>, pt = softmax(z)_t,
    /// alpha_t = <c>ClassAlpha[t]</c> (1 when <see cref="FocalOptions.ClassAlpha"/> is null).
    /// </summary>
    /// <remarks>
    /// <para>Defaults (<see cref="FocalOptions.Default"/>): gamma = 2, no alpha, epsilon = 1 (the common PyTorch ports' default;
    /// the paper found epsilon = -1 best for RetinaNet). With gamma = 0 and no alpha it equals
    /// <see cref="CrossEntropy(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float}, int, PolyLossOptions)"/> with the same epsilon,
    /// losses and gradients bit for bit in float64, and in float32 too except against the cross entropy's few-classes
    /// float32 kernel (C &lt;= 16 on SIMD hardware), which agrees within 1 ulp; plain cross entropy for epsilon = 0.</para>
    /// <para>Gradient, with q = 1 - pt, F = alpha_t (-log pt) + epsilon q and M = q^gamma (gamma pt F / q + alpha_t + epsilon pt):
    /// <c>dFL/dz_t = -q M</c> and <c>dFL/dz_j = p_j M</c> for j != t (dFL/dpt times dpt/dz_j = pt (delta_tj - p_j)); q^(gamma - 1)
    /// is never formed, so gamma &lt; 1 at q -&gt; 0 is exact.</para>
    /// <para>Accuracy: float32 losses within 1 ulp and gradients within 1.5 ulp (0.5 and 1.24 measured on the SIMD paths,
    /// 0.5 on the scalar one), float64 within 4 ulp (2 measured), at any logit scale: q and -log pt come from the shared
    /// row machinery without cancellation, and epsilon &lt; 0 cancels the linear terms algebraically.</para>
    /// <para>Special values: a single +inf logit acts as the limit of a huge logit; a -inf target logit gives loss +inf with the
    /// limiting gradient; a NaN anywhere in a row, a row of all -inf, or two +inf logits make that row's loss and gradient NaN only.</para>
    /// </remarks>
    /// <param name="logits">Logits, <c>[rows, numClasses]</c> row-major.</param>
    /// <param name="targets">One class index per row, in [0, numClasses).</param>
    /// <param name="losses">Receives one loss per row for <see cref="Reduction.None"/>, else the reduced value (length 1):
    /// Sum, or Mean over rows (unweighted, also with ClassAlpha; NaN for no rows).</param>
    /// <param name="numClasses">Number of classes C (at least 1).</param>
    /// <param name="options">Gamma, ClassAlpha, Epsilon, Reduction, MaxDegreeOfParallelism (<see cref="FocalOptions.Alpha"/> must be null).</param>
    /// <param name="logitsGradient">Optional (empty to skip): receives the gradient of the output (row losses summed for None,
    /// the sum or mean for Sum or Mean) with respect to the logits, same shape as the logits.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">numClasses &lt; 1, Gamma negative or not finite, Epsilon not finite, an
    /// unknown Reduction, or a target outside [0, numClasses) (the message names the row and the value).</exception>
    /// <exception cref="ArgumentException">A span length does not match, ClassAlpha of the wrong length or with a negative or
    /// non-finite entry, or Alpha is set.</exception>
    public static void SoftmaxFocal(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> losses, int numClasses, FocalOptions options, Span<float> logitsGradient = default)
        => FocalEngine.Softmax<float, R64>(logits, targets, losses, logitsGradient, numClasses, options);

    /// <summary>Poly-1 softmax focal loss in float64 (double-double intermediates); see the float32 overload for the formulas.</summary>
    /// <inheritdoc cref="SoftmaxFocal(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float}, int, FocalOptions, Span{float})"/>
    public static void SoftmaxFocal(ReadOnlySpan<double> logits, ReadOnlySpan<int> targets, Span<double> losses, int numClasses, FocalOptions options, Span<double> logitsGradient = default)
        => FocalEngine.Softmax<double, R128>(logits, targets, losses, logitsGradient, numClasses, options);
}
