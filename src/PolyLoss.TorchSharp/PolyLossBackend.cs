namespace PolyLoss.TorchSharp;

/// <summary>
/// Which implementation computes a loss and its gradient. Both give the same values and gradients (to rounding);
/// they differ in where they run and how fast.
/// </summary>
public enum PolyLossBackend
{
    /// <summary>
    /// <see cref="Fused"/> where it runs on the input's memory without a copy (CPU, float32 or float64, non-empty, at
    /// most 2 GiB of logits, rows along the class dimension contiguous: <c>[N, C]</c> contiguous or
    /// <c>[N, C, d1, ...]</c> stored channels-last), otherwise <see cref="Composite"/>.
    /// </summary>
    Auto = 0,

    /// <summary>
    /// A composition of TorchSharp operations (log_softmax, gather, ...) differentiated by LibTorch's autograd.
    /// Runs on every device and floating dtype and never synchronises with the host.
    /// </summary>
    Composite = 1,

    /// <summary>
    /// A custom autograd function whose forward and backward call the PolyLoss core library's fused kernels on
    /// the tensors' memory. CPU float32 / float64 only; other inputs throw <see cref="NotSupportedException"/>.
    /// Inputs that are not laid out as contiguous rows of classes (e.g. <c>[N, C, H, W]</c> in the default layout) are
    /// copied once into that layout when this path is requested explicitly.
    /// </summary>
    Fused = 2,
}
