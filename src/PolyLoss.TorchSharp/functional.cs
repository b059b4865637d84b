using TorchSharp;
using static TorchSharp.torch;

namespace PolyLoss.TorchSharp;

using Reduction = global::TorchSharp.torch.nn.Reduction;
using Tensor = global::TorchSharp.torch.Tensor;

/// <summary>
/// PolyLoss functions for TorchSharp, named and shaped like <c>torch.nn.functional</c>: the class dimension is
/// dimension 1, reductions use TorchSharp's <see cref="Reduction"/>, and the result is differentiable.
/// Modules wrapping them: <see cref="PolyNN"/>.
/// </summary>
/// <remarks>
/// Each function has two implementations that agree to rounding (see <see cref="PolyLossBackend"/>): a composition
/// of TorchSharp operations for any device and dtype (the <c>_composite</c> functions), and a custom autograd function
/// over the PolyLoss core library's fused kernels for CPU float32 / float64 (the <c>_fused</c> functions). The
/// functions without a suffix choose automatically: fused where it applies.
/// </remarks>
public static class functional
{
    /// <summary>
    /// Poly-1 cross entropy (Leng et al., ICLR 2022): <c>L = CE(p, y) + epsilon * (1 - p_t)</c> with
    /// <c>p = softmax(input)</c> along dimension 1, a drop-in replacement for <c>torch.nn.functional.cross_entropy</c>.
    /// </summary>
    /// <param name="input">Logits <c>[N, C]</c>, <c>[N, C, d1, d2, ...]</c> (e.g. segmentation) or unbatched <c>[C]</c>; floating point.</param>
    /// <param name="target">
    /// Either class indices (an integer tensor, int64 as TorchSharp's cross entropy takes, of the input's shape without
    /// dimension 1, values in <c>[0, C)</c> or <paramref name="ignore_index"/>), or class probabilities of the
    /// input's shape (a floating tensor).
    /// </param>
    /// <param name="epsilon">The Poly-1 coefficient; 0 gives plain cross entropy. The paper recommends 2 for ImageNet-style classification.</param>
    /// <param name="weight">Optional per-class weights <c>[C]</c>. With class targets a row's loss is scaled by the weight of its target
    /// (label smoothing spreads it as <c>sum_k w_k y_k [-log p_k + epsilon (1 - p_k)]</c>); with probability targets each class
    /// term is scaled by its weight.</param>
    /// <param name="ignore_index">Class-index targets equal to this value contribute neither loss nor gradient and are left out of the mean.
    /// Must be negative (unused) with probability targets, as in TorchSharp.</param>
    /// <param name="reduction"><see cref="Reduction.Mean"/> (default): for class targets the sum of the row losses divided by the summed
    /// weights of the non-ignored targets (their count without weights), for probability targets divided by the number of rows;
    /// <see cref="Reduction.Sum"/>; or <see cref="Reduction.None"/>: one loss per row, shaped like the input without dimension 1.</param>
    /// <param name="label_smoothing">In [0, 1]: targets become <c>(1 - s) y + s / C</c>; the smoothed distribution is used both in the cross entropy
    /// and in <c>p_t = sum_k y_k p_k</c>.</param>
    /// <returns>The loss: a scalar for Mean and Sum, otherwise one value per row.</returns>
    /// <exception cref="ArgumentException">Shapes or dtypes that do not fit together, epsilon not finite, label_smoothing outside [0, 1],
    /// or a non-negative ignore_index with probability targets.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A class-index target outside [0, C) that is not ignore_index (fused path; the composite path reports
    /// LibTorch's index error).</exception>
    public static Tensor poly_loss_cross_entropy(Tensor input, Tensor target, double epsilon = 2.0, Tensor? weight = null,
        long ignore_index = -100, Reduction reduction = Reduction.Mean, double label_smoothing = 0.0) =>
        CrossEntropy(PolyLossBackend.Auto, input, target, epsilon, weight, ignore_index, reduction, label_smoothing);

    /// <summary>
    /// Poly-1 cross entropy through the fused path: a custom autograd function over the PolyLoss core library's kernels,
    /// on the tensors' memory. Otherwise identical to
    /// <see cref="poly_loss_cross_entropy(Tensor, Tensor, double, Tensor?, long, Reduction, double)"/>.
    /// </summary>
    /// <param name="input">Logits, class dimension 1; CPU float32 or float64.</param>
    /// <param name="target">Class indices or class probabilities.</param>
    /// <param name="epsilon">The Poly-1 coefficient.</param>
    /// <param name="weight">Optional per-class weights <c>[C]</c>.</param>
    /// <param name="ignore_index">Ignored class-index target value.</param>
    /// <param name="reduction">How row losses are combined.</param>
    /// <param name="label_smoothing">Label smoothing in [0, 1].</param>
    /// <returns>The loss.</returns>
    /// <exception cref="NotSupportedException">The tensors are not CPU float32 / float64, or the logits exceed 2 GiB.</exception>
    public static Tensor poly_loss_cross_entropy_fused(Tensor input, Tensor target, double epsilon = 2.0, Tensor? weight = null,
        long ignore_index = -100, Reduction reduction = Reduction.Mean, double label_smoothing = 0.0) =>
        CrossEntropy(PolyLossBackend.Fused, input, target, epsilon, weight, ignore_index, reduction, label_smoothing);

    /// <summary>
    /// Poly-1 cross entropy through the composite path: TorchSharp operations differentiated by LibTorch's autograd, on any
    /// device and floating dtype. Otherwise identical to
    /// <see cref="poly_loss_cross_entropy(Tensor, Tensor, double, Tensor?, long, Reduction, double)"/>.
    /// </summary>
    /// <param name="input">Logits, class dimension 1.</param>
    /// <param name="target">Class indices or class probabilities.</param>
    /// <param name="epsilon">The Poly-1 coefficient.</param>
    /// <param name="weight">Optional per-class weights <c>[C]</c>.</param>
    /// <param name="ignore_index">Ignored class-index target value.</param>
    /// <param name="reduction">How row losses are combined.</param>
    /// <param name="label_smoothing">Label smoothing in [0, 1].</param>
    /// <returns>The loss.</returns>
    public static Tensor poly_loss_cross_entropy_composite(Tensor input, Tensor target, double epsilon = 2.0, Tensor? weight = null,
        long ignore_index = -100, Reduction reduction = Reduction.Mean, double label_smoothing = 0.0) =>
        CrossEntropy(PolyLossBackend.Composite, input, target, epsilon, weight, ignore_index, reduction, label_smoothing);

    /// <summary>Poly-1 cross entropy computed by <paramref name="backend"/> (validation, then dispatch).</summary>
    internal static Tensor CrossEntropy(PolyLossBackend backend, Tensor input, Tensor target, double epsilon, Tensor? weight,
        long ignore_index, Reduction reduction, double label_smoothing)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (!double.IsFinite(epsilon)) throw new ArgumentException($"epsilon must be finite; got {epsilon}.", nameof(epsilon));
        if (!(label_smoothing >= 0 && label_smoothing <= 1))
            throw new ArgumentException($"label_smoothing must be in [0, 1]; got {label_smoothing}.", nameof(label_smoothing));
        if (!input.is_floating_point()) throw new ArgumentException($"input must be floating point; got {input.dtype}.", nameof(input));
        if (input.dim() == 0) throw new ArgumentException("input must have a class dimension; got a scalar.", nameof(input));
        bool dense = target.is_floating_point();
        if (!dense && !IsInteger(target.dtype))
            throw new ArgumentException($"target must hold class indices (an integer tensor) or probabilities (a floating tensor); got {target.dtype}.", nameof(target));

        if (dense && ignore_index >= 0)
            throw new ArgumentException("ignore_index is not supported for probability targets (as in TorchSharp); leave it negative.", nameof(ignore_index));

        using var scope = NewDisposeScope();
        bool unbatched = input.dim() == 1;
        Tensor x = unbatched ? input.unsqueeze(0) : input;
        Tensor y = unbatched ? target.unsqueeze(0) : target;
        CheckTargetShape(x, y, dense, unbatched);
        if (weight is not null && (weight.dim() != 1 || weight.shape[0] != x.shape[1] || !weight.is_floating_point()))
            throw new ArgumentException($"weight must be a floating tensor of shape [{x.shape[1]}]; got {weight.dtype} {Shape(weight.shape)}.", nameof(weight));

        Tensor result;
        if (ChooseCrossEntropy(backend, x, y, weight) == PolyLossBackend.Fused)
        {
            result = Fused.CrossEntropy(x, y, dense, epsilon, weight, ignore_index, reduction, label_smoothing);
        }
        else
        {
            Tensor? w = weight?.to(x.dtype, x.device);
            result = dense
                ? Composite.CrossEntropyDense(x, y.to(x.dtype), epsilon, w, reduction, label_smoothing)
                : Composite.CrossEntropy(x, y.to(ScalarType.Int64), epsilon, w, ignore_index, reduction, label_smoothing);
        }
        if (unbatched && reduction == Reduction.None) result = result.squeeze(0);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Sigmoid Poly-1 focal loss (element-wise, for multi-label or binary targets):
    /// <c>L = alpha_t (1 - p_t)^gamma BCE(input, target) + epsilon (1 - p_t)^(gamma + 1)</c>, with <c>p = sigmoid(input)</c>,
    /// <c>p_t = target p + (1 - target)(1 - p)</c> and <c>alpha_t = alpha target + (1 - alpha)(1 - target)</c>.
    /// With gamma = 0 and epsilon = 0 it is <c>binary_cross_entropy_with_logits</c>.
    /// </summary>
    /// <param name="input">Logits of any shape; floating point.</param>
    /// <param name="target">Labels in [0, 1] of the input's shape (converted to the input's dtype).</param>
    /// <param name="epsilon">The Poly-1 coefficient (default 1).</param>
    /// <param name="gamma">The focusing exponent (default 2), at least 0.</param>
    /// <param name="alpha">Optional weight of the positive class in [0, 1]; null applies no class weighting.</param>
    /// <param name="reduction">Mean over all elements (default), Sum, or None (the input's shape).</param>
    /// <returns>The loss.</returns>
    /// <exception cref="ArgumentException">Shapes differ, the input is not floating point, or a parameter is out of range.</exception>
    public static Tensor poly1_focal_loss(Tensor input, Tensor target, double epsilon = 1.0, double gamma = 2.0, double? alpha = null,
        Reduction reduction = Reduction.Mean) =>
        SigmoidFocal(PolyLossBackend.Auto, input, target, epsilon, gamma, alpha, reduction);

    /// <summary>
    /// Sigmoid Poly-1 focal loss through the fused path (the core library's kernel; CPU float32 / float64). It does not
    /// differentiate with respect to the target. Otherwise identical to
    /// <see cref="poly1_focal_loss(Tensor, Tensor, double, double, double?, Reduction)"/>.
    /// </summary>
    /// <param name="input">Logits of any shape.</param>
    /// <param name="target">Labels in [0, 1] of the input's shape.</param>
    /// <param name="epsilon">The Poly-1 coefficient.</param>
    /// <param name="gamma">The focusing exponent.</param>
    /// <param name="alpha">Optional positive-class weight.</param>
    /// <param name="reduction">How element losses are combined.</param>
    /// <returns>The loss.</returns>
    /// <exception cref="NotSupportedException">The tensors are not CPU float32 / float64, or the target requires a gradient.</exception>
    public static Tensor poly1_focal_loss_fused(Tensor input, Tensor target, double epsilon = 1.0, double gamma = 2.0, double? alpha = null,
        Reduction reduction = Reduction.Mean) =>
        SigmoidFocal(PolyLossBackend.Fused, input, target, epsilon, gamma, alpha, reduction);

    /// <summary>
    /// Sigmoid Poly-1 focal loss through the composite path (TorchSharp operations, any device and dtype). Otherwise identical to
    /// <see cref="poly1_focal_loss(Tensor, Tensor, double, double, double?, Reduction)"/>.
    /// </summary>
    /// <param name="input">Logits of any shape.</param>
    /// <param name="target">Labels in [0, 1] of the input's shape.</param>
    /// <param name="epsilon">The Poly-1 coefficient.</param>
    /// <param name="gamma">The focusing exponent.</param>
    /// <param name="alpha">Optional positive-class weight.</param>
    /// <param name="reduction">How element losses are combined.</param>
    /// <returns>The loss.</returns>
    public static Tensor poly1_focal_loss_composite(Tensor input, Tensor target, double epsilon = 1.0, double gamma = 2.0, double? alpha = null,
        Reduction reduction = Reduction.Mean) =>
        SigmoidFocal(PolyLossBackend.Composite, input, target, epsilon, gamma, alpha, reduction);

    /// <summary>Sigmoid Poly-1 focal loss computed by <paramref name="backend"/> (validation, then dispatch). Auto uses the
    /// composite path when the target requires a gradient.</summary>
    internal static Tensor SigmoidFocal(PolyLossBackend backend, Tensor input, Tensor target, double epsilon, double gamma, double? alpha,
        Reduction reduction)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (!double.IsFinite(epsilon)) throw new ArgumentException($"epsilon must be finite; got {epsilon}.", nameof(epsilon));
        if (!(gamma >= 0) || double.IsInfinity(gamma)) throw new ArgumentException($"gamma must be finite and at least 0; got {gamma}.", nameof(gamma));
        if (alpha is double a && !(a >= 0 && a <= 1)) throw new ArgumentException($"alpha must be in [0, 1]; got {a}.", nameof(alpha));
        if (!input.is_floating_point()) throw new ArgumentException($"input must be floating point; got {input.dtype}.", nameof(input));
        if (!SameShape(input.shape, target.shape))
            throw new ArgumentException($"target {Shape(target.shape)} must have the input's shape {Shape(input.shape)}.", nameof(target));

        PolyLossBackend chosen = PolyLossBackend.Composite;
        if (backend != PolyLossBackend.Composite)
        {
            string? why = Fused.Unsupported(input, target, null)
                ?? (target.requires_grad && torch.is_grad_enabled() ? "the target requires a gradient, which the fused kernel does not compute" : null);
            if (backend == PolyLossBackend.Fused)
            {
                if (why is not null)
                    throw new NotSupportedException($"The fused PolyLoss focal kernel cannot take these tensors: {why}. Use PolyLossBackend.Auto or Composite.");
                chosen = PolyLossBackend.Fused;
            }
            else if (why is null && input.numel() > 0 && input.is_contiguous())
            {
                chosen = PolyLossBackend.Fused;
            }
        }
        return chosen == PolyLossBackend.Fused
            ? Fused.SigmoidFocal(input, target, epsilon, gamma, alpha, reduction)
            : Composite.SigmoidFocal(input, target.to(input.dtype), epsilon, gamma, alpha, reduction);
    }

    /// <summary>The backend <paramref name="requested"/> resolves to for these (batched) tensors.</summary>
    internal static PolyLossBackend ChooseCrossEntropy(PolyLossBackend requested, Tensor input, Tensor target, Tensor? weight)
    {
        if (requested == PolyLossBackend.Composite) return PolyLossBackend.Composite;
        string? why = Fused.Unsupported(input, target, weight);
        if (requested == PolyLossBackend.Fused)
        {
            if (why is not null)
                throw new NotSupportedException($"The fused PolyLoss kernels cannot take these tensors: {why}. Use PolyLossBackend.Auto or Composite.");
            return PolyLossBackend.Fused;
        }
        // Auto: the fused kernels where they run on the logits' memory as it is, i.e. where the rows along the class
        // dimension are already contiguous: [N, C] contiguous, or [N, C, d1, ...] stored channels-last. Default
        // [N, C, H, W] layouts would need a copy first, and measured slower than the composite path (docs/torchsharp.md).
        if (why is not null || input.numel() == 0) return PolyLossBackend.Composite;
        return RowsContiguous(input) ? PolyLossBackend.Fused : PolyLossBackend.Composite;
    }

    /// <summary>True when the class dimension (1) is the innermost, densely packed one: rows of classes lie contiguously.</summary>
    private static bool RowsContiguous(Tensor input)
    {
        if (input.dim() == 2) return input.is_contiguous();
        using Tensor moved = input.movedim([1], [-1]);
        return moved.is_contiguous();
    }

    private static void CheckTargetShape(Tensor input, Tensor target, bool dense, bool unbatched)
    {
        if (dense)
        {
            if (!SameShape(input.shape, target.shape))
                throw new ArgumentException($"Probability targets must have the input's shape {Shape(input.shape)}; got {Shape(target.shape)}.", nameof(target));
            return;
        }
        long[] expected = new long[input.dim() - 1];
        expected[0] = input.shape[0];
        Array.Copy(input.shape, 2, expected, 1, expected.Length - 1);
        if (!SameShape(expected, target.shape))
        {
            string hint = unbatched ? "a scalar" : Shape(expected);
            throw new ArgumentException($"Class-index targets must have shape {hint} (the input's shape without dimension 1); got {Shape(target.shape)}.", nameof(target));
        }
    }

    private static bool IsInteger(ScalarType t) =>
        t is ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte;

    private static bool SameShape(long[] a, long[] b) => a.AsSpan().SequenceEqual(b);

    private static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
