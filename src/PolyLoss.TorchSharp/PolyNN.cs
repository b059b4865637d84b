namespace PolyLoss.TorchSharp;

using Reduction = global::TorchSharp.torch.nn.Reduction;
using Tensor = global::TorchSharp.torch.Tensor;

/// <summary>
/// Factories for the PolyLoss modules, the counterparts of <c>torch.nn.CrossEntropyLoss(...)</c> and friends.
/// Switching from cross entropy is one line: <c>nn.CrossEntropyLoss(w, ignore_index, reduction)</c> becomes
/// <c>PolyNN.PolyCrossEntropyLoss(w, ignore_index, reduction)</c> (same leading parameters, epsilon 2 by default).
/// </summary>
public static class PolyNN
{
    /// <summary>Creates a Poly-1 cross-entropy loss module: <c>L = CE + epsilon * (1 - p_t)</c>.</summary>
    /// <param name="weight">Optional per-class weights <c>[C]</c>.</param>
    /// <param name="ignore_index">Class-index targets equal to this value are ignored (null: -100).</param>
    /// <param name="reduction">Mean (default), Sum or None, with TorchSharp's meanings.</param>
    /// <param name="label_smoothing">Label smoothing in [0, 1].</param>
    /// <param name="epsilon">The Poly-1 coefficient (default 2; 0 is plain cross entropy).</param>
    /// <param name="backend">Which implementation computes the loss (default: the fused kernels where they apply).</param>
    /// <returns>The module.</returns>
    public static Modules.PolyCrossEntropyLoss PolyCrossEntropyLoss(Tensor? weight = null, long? ignore_index = null,
        Reduction reduction = Reduction.Mean, double label_smoothing = 0.0, double epsilon = 2.0,
        PolyLossBackend backend = PolyLossBackend.Auto) =>
        new(weight, ignore_index, reduction, label_smoothing, epsilon, backend);

    /// <summary>Creates a sigmoid Poly-1 focal loss module (element-wise, for multi-label or binary targets).</summary>
    /// <param name="epsilon">The Poly-1 coefficient (default 1).</param>
    /// <param name="gamma">The focusing exponent (default 2).</param>
    /// <param name="alpha">Optional positive-class weight in [0, 1]; null (default) applies none.</param>
    /// <param name="reduction">Mean (default), Sum or None.</param>
    /// <param name="backend">Which implementation computes the loss.</param>
    /// <returns>The module.</returns>
    public static Modules.Poly1FocalLoss Poly1FocalLoss(double epsilon = 1.0, double gamma = 2.0, double? alpha = null,
        Reduction reduction = Reduction.Mean, PolyLossBackend backend = PolyLossBackend.Auto) =>
        new(epsilon, gamma, alpha, reduction, backend);
}
