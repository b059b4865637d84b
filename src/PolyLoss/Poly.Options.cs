using PolyLoss.Internal;

namespace PolyLoss;

public static partial class Poly
{
    /// <summary>
    /// Poly-1 / Poly-N cross entropy for integer targets with PyTorch-style options: class weights (the row loss is
    /// multiplied by <c>Weight[t]</c>; with label smoothing it is <c>sum_k w_k y_k [-log p_k + ...]</c> over the smoothed
    /// labels, PyTorch's meaning), <c>IgnoreIndex</c> (loss 0, excluded from the mean), label smoothing (targets
    /// become (1 - s) one_hot(t) + s / C, used in both the cross entropy and the polynomial term) and reduction.
    /// </summary>
    /// <param name="logits">Logits, <c>[rows, numClasses]</c> row-major.</param>
    /// <param name="targets">One class index per row, in [0, numClasses) or equal to <see cref="PolyLossOptions.IgnoreIndex"/>.</param>
    /// <param name="losses">Receives the row losses (length rows) for <see cref="Reduction.None"/>, else the reduced value (length 1).
    /// Mean divides by the sum of the non-ignored rows' target weights and is NaN when that is 0 (as PyTorch).</param>
    /// <param name="numClasses">Number of classes C.</param>
    /// <param name="options">The options.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">numClasses &lt; 1, a target out of range (row and value named),
    /// label smoothing outside [0, 1].</exception>
    /// <exception cref="ArgumentException">A span length does not match, a weight vector of the wrong length or with a negative
    /// entry, or an empty Poly-N coefficient list.</exception>
    public static void CrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> losses, int numClasses, PolyLossOptions options)
        => Engine.Targets<float, R64>(logits, targets, losses, default, numClasses, new Engine.Settings(options), default, optionsApi: true);

    /// <inheritdoc cref="CrossEntropy(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float}, int, PolyLossOptions)"/>
    public static void CrossEntropy(ReadOnlySpan<double> logits, ReadOnlySpan<int> targets, Span<double> losses, int numClasses, PolyLossOptions options)
        => Engine.Targets<double, R128>(logits, targets, losses, default, numClasses, new Engine.Settings(options), default, optionsApi: true);

    /// <summary>
    /// Poly-1 / Poly-N cross entropy for dense labels with options. Class weights scale the labels:
    /// <c>L = sum_k w_k y_k (-log p_k) + f(sum_k w_k y_k (1 - p_k))</c>, f the polynomial; Mean divides by the row count
    /// (as PyTorch does for probability targets). <see cref="PolyLossOptions.IgnoreIndex"/> does not apply; label smoothing
    /// mixes the labels with the uniform distribution: (1 - s) y + s / C.
    /// </summary>
    /// <param name="logits">Logits, <c>[rows, numClasses]</c> row-major.</param>
    /// <param name="labels">Labels of the same shape.</param>
    /// <param name="losses">Row losses (length rows) for <see cref="Reduction.None"/>, else the reduced value (length 1).</param>
    /// <param name="numClasses">Number of classes C.</param>
    /// <param name="options">The options.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">numClasses &lt; 1 or label smoothing outside [0, 1].</exception>
    /// <exception cref="ArgumentException">A span length does not match, or invalid weights or coefficients.</exception>
    public static void CrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, Span<float> losses, int numClasses, PolyLossOptions options)
        => Engine.Dense<float, R64>(logits, labels, losses, default, default, numClasses, new Engine.Settings(options), default);

    /// <inheritdoc cref="CrossEntropy(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, PolyLossOptions)"/>
    public static void CrossEntropy(ReadOnlySpan<double> logits, ReadOnlySpan<double> labels, Span<double> losses, int numClasses, PolyLossOptions options)
        => Engine.Dense<double, R128>(logits, labels, losses, default, default, numClasses, new Engine.Settings(options), default);

    /// <summary>
    /// The loss with options (see <see cref="CrossEntropy(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float}, int, PolyLossOptions)"/>)
    /// and its gradient with respect to the logits, fused. The gradient is that of the output: of
    /// <c>sum_r upstream[r] * losses[r]</c> for <see cref="Reduction.None"/> (empty upstream = all ones), or of
    /// <c>upstream[0] * losses[0]</c> for Mean and Sum (empty upstream = 1). Ignored rows get a zero gradient.
    /// </summary>
    /// <param name="logits">Logits, <c>[rows, numClasses]</c> row-major.</param>
    /// <param name="targets">One class index per row.</param>
    /// <param name="losses">Row losses or the reduced value, as for the loss alone.</param>
    /// <param name="logitsGradient">Receives the gradient, same shape as the logits.</param>
    /// <param name="numClasses">Number of classes C.</param>
    /// <param name="options">The options.</param>
    /// <param name="upstream">Upstream gradient: per row (None) or a single scalar (Mean, Sum); empty means ones.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">numClasses &lt; 1, a target out of range, label smoothing outside [0, 1].</exception>
    /// <exception cref="ArgumentException">A span length does not match, or invalid weights or coefficients.</exception>
    public static void CrossEntropyWithGradient(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> losses, Span<float> logitsGradient,
        int numClasses, PolyLossOptions options, ReadOnlySpan<float> upstream = default)
    {
        RequireGradient(logitsGradient.Length, logits.Length);
        Engine.Targets<float, R64>(logits, targets, losses, logitsGradient, numClasses, new Engine.Settings(options), upstream, optionsApi: true);
    }

    /// <inheritdoc cref="CrossEntropyWithGradient(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float}, Span{float}, int, PolyLossOptions, ReadOnlySpan{float})"/>
    public static void CrossEntropyWithGradient(ReadOnlySpan<double> logits, ReadOnlySpan<int> targets, Span<double> losses, Span<double> logitsGradient,
        int numClasses, PolyLossOptions options, ReadOnlySpan<double> upstream = default)
    {
        RequireGradient(logitsGradient.Length, logits.Length);
        Engine.Targets<double, R128>(logits, targets, losses, logitsGradient, numClasses, new Engine.Settings(options), upstream, optionsApi: true);
    }

    /// <summary>
    /// The dense-label loss with options and its gradients, fused: with respect to the logits and, when
    /// <paramref name="labelsGradient"/> is not empty, with respect to the labels
    /// (<c>w_k (-log p_k + f'(P1) (1 - p_k))</c>, for distillation where the labels come from a teacher).
    /// </summary>
    /// <param name="logits">Logits, <c>[rows, numClasses]</c> row-major.</param>
    /// <param name="labels">Labels of the same shape.</param>
    /// <param name="losses">Row losses or the reduced value.</param>
    /// <param name="logitsGradient">Receives the gradient with respect to the logits.</param>
    /// <param name="numClasses">Number of classes C.</param>
    /// <param name="options">The options.</param>
    /// <param name="upstream">Upstream gradient: per row (None) or a single scalar (Mean, Sum); empty means ones.</param>
    /// <param name="labelsGradient">Optional: receives the gradient with respect to the labels.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">numClasses &lt; 1 or label smoothing outside [0, 1].</exception>
    /// <exception cref="ArgumentException">A span length does not match, or invalid weights or coefficients.</exception>
    public static void CrossEntropyWithGradient(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, Span<float> losses, Span<float> logitsGradient,
        int numClasses, PolyLossOptions options, ReadOnlySpan<float> upstream = default, Span<float> labelsGradient = default)
    {
        RequireGradient(logitsGradient.Length, logits.Length);
        Engine.Dense<float, R64>(logits, labels, losses, logitsGradient, labelsGradient, numClasses, new Engine.Settings(options), upstream);
    }

    /// <inheritdoc cref="CrossEntropyWithGradient(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, int, PolyLossOptions, ReadOnlySpan{float}, Span{float})"/>
    public static void CrossEntropyWithGradient(ReadOnlySpan<double> logits, ReadOnlySpan<double> labels, Span<double> losses, Span<double> logitsGradient,
        int numClasses, PolyLossOptions options, ReadOnlySpan<double> upstream = default, Span<double> labelsGradient = default)
    {
        RequireGradient(logitsGradient.Length, logits.Length);
        Engine.Dense<double, R128>(logits, labels, losses, logitsGradient, labelsGradient, numClasses, new Engine.Settings(options), upstream);
    }
}
