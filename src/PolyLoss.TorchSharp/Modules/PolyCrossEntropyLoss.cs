using TorchSharp;

namespace PolyLoss.TorchSharp.Modules;

using Reduction = global::TorchSharp.torch.nn.Reduction;
using Tensor = global::TorchSharp.torch.Tensor;

/// <summary>
/// Poly-1 cross entropy as a TorchSharp module, the counterpart of <c>TorchSharp.Modules.CrossEntropyLoss</c>:
/// <c>L = CE + epsilon * (1 - p_t)</c>. Create it with <see cref="PolyNN.PolyCrossEntropyLoss"/>; it calls
/// <see cref="functional.poly_loss_cross_entropy(Tensor, Tensor, double, Tensor?, long, Reduction, double)"/> (or its
/// <c>_fused</c> / <c>_composite</c> twin, as <see cref="backend"/> says).
/// </summary>
public sealed class PolyCrossEntropyLoss : Loss<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the module; see <see cref="PolyNN.PolyCrossEntropyLoss"/> for the parameters.</summary>
    /// <param name="weight">Optional per-class weights <c>[C]</c>.</param>
    /// <param name="ignore_index">Ignored class-index target value (null: -100, as TorchSharp).</param>
    /// <param name="reduction">How row losses are combined.</param>
    /// <param name="label_smoothing">Label smoothing in [0, 1].</param>
    /// <param name="epsilon">The Poly-1 coefficient.</param>
    /// <param name="backend">Which implementation computes the loss.</param>
    public PolyCrossEntropyLoss(Tensor? weight = null, long? ignore_index = null, Reduction reduction = Reduction.Mean,
        double label_smoothing = 0.0, double epsilon = 2.0, PolyLossBackend backend = PolyLossBackend.Auto)
        : base(reduction)
    {
        this.weight = weight;
        this.ignore_index = ignore_index ?? -100;
        this.label_smoothing = label_smoothing;
        this.epsilon = epsilon;
        this.backend = backend;
    }

    /// <summary>Per-class weights <c>[C]</c>, or null.</summary>
    public Tensor? weight { get; }

    /// <summary>Class-index targets equal to this value are ignored.</summary>
    public long ignore_index { get; }

    /// <summary>Label smoothing in [0, 1].</summary>
    public double label_smoothing { get; }

    /// <summary>The Poly-1 coefficient epsilon.</summary>
    public double epsilon { get; }

    /// <summary>Which implementation computes the loss.</summary>
    public PolyLossBackend backend { get; }

    /// <summary>The loss of <paramref name="input"/> logits (class dimension 1) against <paramref name="target"/>
    /// class indices or probabilities.</summary>
    /// <param name="input">Logits <c>[N, C, ...]</c> or <c>[C]</c>.</param>
    /// <param name="target">Class indices (int64) or probabilities of the input's shape.</param>
    /// <returns>The reduced loss, or one loss per row for <see cref="Reduction.None"/>.</returns>
    public override Tensor forward(Tensor input, Tensor target) =>
        functional.CrossEntropy(backend, input, target, epsilon, weight, ignore_index, reduction, label_smoothing);
}

/// <summary>
/// Sigmoid Poly-1 focal loss as a TorchSharp module (element-wise, multi-label). Create it with
/// <see cref="PolyNN.Poly1FocalLoss"/>; it calls
/// <see cref="functional.poly1_focal_loss(Tensor, Tensor, double, double, double?, Reduction)"/> (or its
/// <c>_fused</c> / <c>_composite</c> twin, as <see cref="backend"/> says).
/// </summary>
public sealed class Poly1FocalLoss : Loss<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the module; see <see cref="PolyNN.Poly1FocalLoss"/> for the parameters.</summary>
    /// <param name="epsilon">The Poly-1 coefficient.</param>
    /// <param name="gamma">The focusing exponent.</param>
    /// <param name="alpha">Optional positive-class weight in [0, 1].</param>
    /// <param name="reduction">How element losses are combined.</param>
    /// <param name="backend">Which implementation computes the loss.</param>
    public Poly1FocalLoss(double epsilon = 1.0, double gamma = 2.0, double? alpha = null, Reduction reduction = Reduction.Mean,
        PolyLossBackend backend = PolyLossBackend.Auto)
        : base(reduction)
    {
        this.epsilon = epsilon;
        this.gamma = gamma;
        this.alpha = alpha;
        this.backend = backend;
    }

    /// <summary>The Poly-1 coefficient epsilon.</summary>
    public double epsilon { get; }

    /// <summary>The focusing exponent gamma.</summary>
    public double gamma { get; }

    /// <summary>The positive-class weight alpha, or null for none.</summary>
    public double? alpha { get; }

    /// <summary>Which implementation computes the loss.</summary>
    public PolyLossBackend backend { get; }

    /// <summary>The loss of <paramref name="input"/> logits against <paramref name="target"/> labels of the same shape.</summary>
    /// <param name="input">Logits of any shape.</param>
    /// <param name="target">Labels in [0, 1].</param>
    /// <returns>The reduced loss, or the element-wise losses for <see cref="Reduction.None"/>.</returns>
    public override Tensor forward(Tensor input, Tensor target) =>
        functional.SigmoidFocal(backend, input, target, epsilon, gamma, alpha, reduction);
}
