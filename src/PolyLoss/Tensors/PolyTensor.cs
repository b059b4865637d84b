using System.Numerics.Tensors;
using PolyLoss.Tensors;

namespace PolyLoss;

/// <summary>
/// PolyLoss over <see cref="System.Numerics.Tensors"/> tensors: <see cref="Tensor{T}"/> or <see cref="ReadOnlyTensorSpan{T}"/>
/// in, a <see cref="Tensor{T}"/> of the logits' shape without the class axis (or axes) out, with the meaning of
/// <c>optax.losses.poly_loss_cross_entropy(logits, labels, epsilon, axis, where)</c>.
/// </summary>
/// <remarks>
/// <para>Shapes: the class axis is <c>axis</c> (default the last; negative values count from the end) or a set of
/// <c>axes</c>, whose elements are flattened row-major, in ascending axis order, into the C classes of a row. Every other
/// axis is a batch axis; the loss has the batch axes' lengths, or shape <c>[1]</c> when none is left or when the loss is
/// reduced (<see cref="Tensor{T}"/> has no rank-0 form). Labels and the <c>where</c> mask broadcast to the logits' shape,
/// integer targets and the upstream gradient to the loss shape, with NumPy's rules.</para>
/// <para>Inputs may be non-contiguous (sliced, permuted, broadcast with stride 0): rows are gathered into pooled
/// contiguous buffers and run through the span API of <see cref="Poly"/> in batches (multi-threaded on large batches);
/// dense row-major inputs whose class axes are the trailing axes are used in place. Results equal those of the span API
/// on the equivalent contiguous rows. Outputs are new dense row-major tensors.</para>
/// <para><c>where</c> (optax's meaning): masked-out elements take no part in the softmax or the sums, and a fully
/// masked row has loss 0 and gradient 0. Masked-out elements of the gradients are 0.</para>
/// <para>Element types: float and double natively; <see cref="Half"/> is computed in float and rounded back to Half.
/// Any other element type throws <see cref="NotSupportedException"/>.</para>
/// </remarks>
public static class PolyTensor
{
    /// <summary>Poly-1 cross entropy over a class axis for dense labels: per row <c>-sum_k y_k log p_k + epsilon sum_k y_k (1 - p_k)</c>, p = softmax(logits); the meaning of <c>optax.losses.poly_loss_cross_entropy</c>.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="labels">Labels (one-hot or soft distributions), broadcastable to the logits' shape with NumPy's rules.</param>
    /// <param name="epsilon">The Poly-1 coefficient (default 2, the paper's value for ImageNet; -1 is its value for detection).</param>
    /// <param name="axis">The class axis; negative values count from the end (default -1, the last axis).</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax or the sums (optax's <c>where</c>); a fully masked row gives loss 0 and gradient 0.</param>
    /// <returns>The loss of each row, shaped as the logits without the class axis (<c>[1]</c> when no axis is left).</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is out of range for the logits' rank.</exception>
    /// <exception cref="ArgumentException"><paramref name="labels"/> or <paramref name="where"/> cannot be broadcast to the logits' shape (the message names both shapes); the logits are a default span or their class axis has no elements.</exception>
    public static Tensor<T> CrossEntropy<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<T> labels, double epsilon = 2.0, int axis = -1, in ReadOnlyTensorSpan<bool> where = default)
        => Loss(Compute(logits, labels, default, true, new ReadOnlySpan<int>(in axis), true, Eps(epsilon), strictTargets: true, where, default, false, false));

    /// <inheritdoc cref="CrossEntropy{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{T}, double, int, in ReadOnlyTensorSpan{bool})"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="labels"/> is null.</exception>
    public static Tensor<T> CrossEntropy<T>(Tensor<T> logits, Tensor<T> labels, double epsilon = 2.0, int axis = -1, Tensor<bool>? where = null)
        => CrossEntropy<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(labels, nameof(labels)).AsReadOnlyTensorSpan(), epsilon, axis, where is null ? default : where.AsReadOnlyTensorSpan());

    /// <summary>Poly-1 cross entropy over a class axis for dense labels: per row <c>-sum_k y_k log p_k + epsilon sum_k y_k (1 - p_k)</c>, p = softmax(logits); the meaning of <c>optax.losses.poly_loss_cross_entropy</c>.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="labels">Labels (one-hot or soft distributions), broadcastable to the logits' shape with NumPy's rules.</param>
    /// <param name="axes">The class axes (negative values count from the end; any order; no repeats). Their elements form the C classes, flattened row-major in ascending axis order: the same as moving them to the end and reshaping them into one axis.</param>
    /// <param name="epsilon">The Poly-1 coefficient (default 2, the paper's value for ImageNet; -1 is its value for detection).</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax or the sums (optax's <c>where</c>); a fully masked row gives loss 0 and gradient 0.</param>
    /// <returns>The loss of each row, shaped as the logits without the class axes (<c>[1]</c> when no axis is left).</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An axis in <paramref name="axes"/> is out of range for the logits' rank.</exception>
    /// <exception cref="ArgumentException"><paramref name="labels"/> or <paramref name="where"/> cannot be broadcast to the logits' shape (the message names both shapes); the logits are a default span or their class axes have no elements; <paramref name="axes"/> is empty or repeats an axis.</exception>
    public static Tensor<T> CrossEntropy<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<T> labels, ReadOnlySpan<int> axes, double epsilon = 2.0, in ReadOnlyTensorSpan<bool> where = default)
        => Loss(Compute(logits, labels, default, true, axes, false, Eps(epsilon), strictTargets: true, where, default, false, false));

    /// <inheritdoc cref="CrossEntropy{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{T}, ReadOnlySpan{int}, double, in ReadOnlyTensorSpan{bool})"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="labels"/> is null.</exception>
    public static Tensor<T> CrossEntropy<T>(Tensor<T> logits, Tensor<T> labels, ReadOnlySpan<int> axes, double epsilon = 2.0, Tensor<bool>? where = null)
        => CrossEntropy<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(labels, nameof(labels)).AsReadOnlyTensorSpan(), axes, epsilon, where is null ? default : where.AsReadOnlyTensorSpan());

    /// <summary>Poly-1 cross entropy over a class axis for dense labels: per row <c>-sum_k y_k log p_k + epsilon sum_k y_k (1 - p_k)</c>, p = softmax(logits); the meaning of <c>optax.losses.poly_loss_cross_entropy</c>. Options give Poly-N, class weights, label smoothing and Mean / Sum reductions, with the span API's meanings.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="labels">Labels (one-hot or soft distributions), broadcastable to the logits' shape with NumPy's rules.</param>
    /// <param name="options">The options: Poly-N coefficients, class weights (length C), <see cref="PolyLossOptions.IgnoreIndex"/> (integer targets), label smoothing, reduction and parallelism, with the span API's meanings.</param>
    /// <param name="axis">The class axis; negative values count from the end (default -1, the last axis).</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax or the sums (optax's <c>where</c>); a fully masked row gives loss 0 and gradient 0.</param>
    /// <returns>The loss of each row, shaped as the logits without the class axis (<c>[1]</c> when no axis is left); a tensor of shape <c>[1]</c> for <see cref="Reduction.Mean"/> and <see cref="Reduction.Sum"/>.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half, or <paramref name="where"/> is combined with label smoothing.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is out of range for the logits' rank, or label smoothing is outside [0, 1].</exception>
    /// <exception cref="ArgumentException"><paramref name="labels"/> or <paramref name="where"/> cannot be broadcast to the logits' shape (the message names both shapes); the logits are a default span or their class axis has no elements; or the class weights or Poly-N coefficients are invalid.</exception>
    public static Tensor<T> CrossEntropy<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<T> labels, PolyLossOptions options, int axis = -1, in ReadOnlyTensorSpan<bool> where = default)
        => Loss(Compute(logits, labels, default, true, new ReadOnlySpan<int>(in axis), true, options, strictTargets: false, where, default, false, false));

    /// <inheritdoc cref="CrossEntropy{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{T}, PolyLossOptions, int, in ReadOnlyTensorSpan{bool})"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="labels"/> is null.</exception>
    public static Tensor<T> CrossEntropy<T>(Tensor<T> logits, Tensor<T> labels, PolyLossOptions options, int axis = -1, Tensor<bool>? where = null)
        => CrossEntropy<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(labels, nameof(labels)).AsReadOnlyTensorSpan(), options, axis, where is null ? default : where.AsReadOnlyTensorSpan());

    /// <summary>Poly-1 cross entropy over a class axis for dense labels: per row <c>-sum_k y_k log p_k + epsilon sum_k y_k (1 - p_k)</c>, p = softmax(logits); the meaning of <c>optax.losses.poly_loss_cross_entropy</c>. Options give Poly-N, class weights, label smoothing and Mean / Sum reductions, with the span API's meanings.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="labels">Labels (one-hot or soft distributions), broadcastable to the logits' shape with NumPy's rules.</param>
    /// <param name="options">The options: Poly-N coefficients, class weights (length C), <see cref="PolyLossOptions.IgnoreIndex"/> (integer targets), label smoothing, reduction and parallelism, with the span API's meanings.</param>
    /// <param name="axes">The class axes (negative values count from the end; any order; no repeats). Their elements form the C classes, flattened row-major in ascending axis order: the same as moving them to the end and reshaping them into one axis.</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax or the sums (optax's <c>where</c>); a fully masked row gives loss 0 and gradient 0.</param>
    /// <returns>The loss of each row, shaped as the logits without the class axes (<c>[1]</c> when no axis is left); a tensor of shape <c>[1]</c> for <see cref="Reduction.Mean"/> and <see cref="Reduction.Sum"/>.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half, or <paramref name="where"/> is combined with label smoothing.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An axis in <paramref name="axes"/> is out of range for the logits' rank, or label smoothing is outside [0, 1].</exception>
    /// <exception cref="ArgumentException"><paramref name="labels"/> or <paramref name="where"/> cannot be broadcast to the logits' shape (the message names both shapes); the logits are a default span or their class axes have no elements; <paramref name="axes"/> is empty or repeats an axis; or the class weights or Poly-N coefficients are invalid.</exception>
    public static Tensor<T> CrossEntropy<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<T> labels, PolyLossOptions options, ReadOnlySpan<int> axes, in ReadOnlyTensorSpan<bool> where = default)
        => Loss(Compute(logits, labels, default, true, axes, false, options, strictTargets: false, where, default, false, false));

    /// <inheritdoc cref="CrossEntropy{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{T}, PolyLossOptions, ReadOnlySpan{int}, in ReadOnlyTensorSpan{bool})"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="labels"/> is null.</exception>
    public static Tensor<T> CrossEntropy<T>(Tensor<T> logits, Tensor<T> labels, PolyLossOptions options, ReadOnlySpan<int> axes, Tensor<bool>? where = null)
        => CrossEntropy<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(labels, nameof(labels)).AsReadOnlyTensorSpan(), options, axes, where is null ? default : where.AsReadOnlyTensorSpan());

    /// <summary>Poly-1 cross entropy over a class axis for integer class targets: per row <c>-log p_t + epsilon (1 - p_t)</c>, p = softmax(logits).</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="targets">Integer class indices in [0, C), one per row: the loss (batch) shape or broadcastable to it. With several class axes a target is the row-major index over those axes in ascending axis order.</param>
    /// <param name="epsilon">The Poly-1 coefficient (default 2, the paper's value for ImageNet; -1 is its value for detection).</param>
    /// <param name="axis">The class axis; negative values count from the end (default -1, the last axis).</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax; a row whose target class is masked out, or that is fully masked, is treated like an ignored row (loss 0, gradient 0, not counted by a mean), and its target is not checked.</param>
    /// <returns>The loss of each row, shaped as the logits without the class axis (<c>[1]</c> when no axis is left).</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is out of range for the logits' rank, or a target is outside [0, C) (the message names its batch index and value).</exception>
    /// <exception cref="ArgumentException"><paramref name="targets"/> or <paramref name="where"/> cannot be broadcast to the logits' (batch) shape (the message names both shapes); the logits are a default span or their class axis has no elements.</exception>
    public static Tensor<T> CrossEntropy<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<int> targets, double epsilon = 2.0, int axis = -1, in ReadOnlyTensorSpan<bool> where = default)
        => Loss(Compute(logits, default, targets, false, new ReadOnlySpan<int>(in axis), true, Eps(epsilon), strictTargets: true, where, default, false, false));

    /// <inheritdoc cref="CrossEntropy{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{int}, double, int, in ReadOnlyTensorSpan{bool})"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="targets"/> is null.</exception>
    public static Tensor<T> CrossEntropy<T>(Tensor<T> logits, Tensor<int> targets, double epsilon = 2.0, int axis = -1, Tensor<bool>? where = null)
        => CrossEntropy<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(targets, nameof(targets)).AsReadOnlyTensorSpan(), epsilon, axis, where is null ? default : where.AsReadOnlyTensorSpan());

    /// <summary>Poly-1 cross entropy over a class axis for integer class targets: per row <c>-log p_t + epsilon (1 - p_t)</c>, p = softmax(logits).</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="targets">Integer class indices in [0, C), one per row: the loss (batch) shape or broadcastable to it. With several class axes a target is the row-major index over those axes in ascending axis order.</param>
    /// <param name="axes">The class axes (negative values count from the end; any order; no repeats). Their elements form the C classes, flattened row-major in ascending axis order: the same as moving them to the end and reshaping them into one axis.</param>
    /// <param name="epsilon">The Poly-1 coefficient (default 2, the paper's value for ImageNet; -1 is its value for detection).</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax; a row whose target class is masked out, or that is fully masked, is treated like an ignored row (loss 0, gradient 0, not counted by a mean), and its target is not checked.</param>
    /// <returns>The loss of each row, shaped as the logits without the class axes (<c>[1]</c> when no axis is left).</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An axis in <paramref name="axes"/> is out of range for the logits' rank, or a target is outside [0, C) (the message names its batch index and value).</exception>
    /// <exception cref="ArgumentException"><paramref name="targets"/> or <paramref name="where"/> cannot be broadcast to the logits' (batch) shape (the message names both shapes); the logits are a default span or their class axes have no elements; <paramref name="axes"/> is empty or repeats an axis.</exception>
    public static Tensor<T> CrossEntropy<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<int> targets, ReadOnlySpan<int> axes, double epsilon = 2.0, in ReadOnlyTensorSpan<bool> where = default)
        => Loss(Compute(logits, default, targets, false, axes, false, Eps(epsilon), strictTargets: true, where, default, false, false));

    /// <inheritdoc cref="CrossEntropy{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{int}, ReadOnlySpan{int}, double, in ReadOnlyTensorSpan{bool})"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="targets"/> is null.</exception>
    public static Tensor<T> CrossEntropy<T>(Tensor<T> logits, Tensor<int> targets, ReadOnlySpan<int> axes, double epsilon = 2.0, Tensor<bool>? where = null)
        => CrossEntropy<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(targets, nameof(targets)).AsReadOnlyTensorSpan(), axes, epsilon, where is null ? default : where.AsReadOnlyTensorSpan());

    /// <summary>Poly-1 cross entropy over a class axis for integer class targets: per row <c>-log p_t + epsilon (1 - p_t)</c>, p = softmax(logits). Options give Poly-N, class weights, the ignore index, label smoothing and Mean / Sum reductions, with the span API's meanings.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="targets">Integer class indices in [0, C) or equal to <see cref="PolyLossOptions.IgnoreIndex"/>, one per row: the loss (batch) shape or broadcastable to it. With several class axes a target is the row-major index over those axes in ascending axis order.</param>
    /// <param name="options">The options: Poly-N coefficients, class weights (length C), <see cref="PolyLossOptions.IgnoreIndex"/> (integer targets), label smoothing, reduction and parallelism, with the span API's meanings.</param>
    /// <param name="axis">The class axis; negative values count from the end (default -1, the last axis).</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax; a row whose target class is masked out, or that is fully masked, is treated like an ignored row (loss 0, gradient 0, not counted by a mean), and its target is not checked.</param>
    /// <returns>The loss of each row, shaped as the logits without the class axis (<c>[1]</c> when no axis is left); a tensor of shape <c>[1]</c> for <see cref="Reduction.Mean"/> and <see cref="Reduction.Sum"/>.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half, or <paramref name="where"/> is combined with label smoothing.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is out of range for the logits' rank, or a target is outside [0, C) and not the ignore index (the message names its batch index and value), or label smoothing is outside [0, 1].</exception>
    /// <exception cref="ArgumentException"><paramref name="targets"/> or <paramref name="where"/> cannot be broadcast to the logits' (batch) shape (the message names both shapes); the logits are a default span or their class axis has no elements; or the class weights or Poly-N coefficients are invalid.</exception>
    public static Tensor<T> CrossEntropy<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<int> targets, PolyLossOptions options, int axis = -1, in ReadOnlyTensorSpan<bool> where = default)
        => Loss(Compute(logits, default, targets, false, new ReadOnlySpan<int>(in axis), true, options, strictTargets: false, where, default, false, false));

    /// <inheritdoc cref="CrossEntropy{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{int}, PolyLossOptions, int, in ReadOnlyTensorSpan{bool})"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="targets"/> is null.</exception>
    public static Tensor<T> CrossEntropy<T>(Tensor<T> logits, Tensor<int> targets, PolyLossOptions options, int axis = -1, Tensor<bool>? where = null)
        => CrossEntropy<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(targets, nameof(targets)).AsReadOnlyTensorSpan(), options, axis, where is null ? default : where.AsReadOnlyTensorSpan());

    /// <summary>Poly-1 cross entropy over a class axis for integer class targets: per row <c>-log p_t + epsilon (1 - p_t)</c>, p = softmax(logits). Options give Poly-N, class weights, the ignore index, label smoothing and Mean / Sum reductions, with the span API's meanings.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="targets">Integer class indices in [0, C) or equal to <see cref="PolyLossOptions.IgnoreIndex"/>, one per row: the loss (batch) shape or broadcastable to it. With several class axes a target is the row-major index over those axes in ascending axis order.</param>
    /// <param name="options">The options: Poly-N coefficients, class weights (length C), <see cref="PolyLossOptions.IgnoreIndex"/> (integer targets), label smoothing, reduction and parallelism, with the span API's meanings.</param>
    /// <param name="axes">The class axes (negative values count from the end; any order; no repeats). Their elements form the C classes, flattened row-major in ascending axis order: the same as moving them to the end and reshaping them into one axis.</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax; a row whose target class is masked out, or that is fully masked, is treated like an ignored row (loss 0, gradient 0, not counted by a mean), and its target is not checked.</param>
    /// <returns>The loss of each row, shaped as the logits without the class axes (<c>[1]</c> when no axis is left); a tensor of shape <c>[1]</c> for <see cref="Reduction.Mean"/> and <see cref="Reduction.Sum"/>.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half, or <paramref name="where"/> is combined with label smoothing.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An axis in <paramref name="axes"/> is out of range for the logits' rank, or a target is outside [0, C) and not the ignore index (the message names its batch index and value), or label smoothing is outside [0, 1].</exception>
    /// <exception cref="ArgumentException"><paramref name="targets"/> or <paramref name="where"/> cannot be broadcast to the logits' (batch) shape (the message names both shapes); the logits are a default span or their class axes have no elements; <paramref name="axes"/> is empty or repeats an axis; or the class weights or Poly-N coefficients are invalid.</exception>
    public static Tensor<T> CrossEntropy<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<int> targets, PolyLossOptions options, ReadOnlySpan<int> axes, in ReadOnlyTensorSpan<bool> where = default)
        => Loss(Compute(logits, default, targets, false, axes, false, options, strictTargets: false, where, default, false, false));

    /// <inheritdoc cref="CrossEntropy{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{int}, PolyLossOptions, ReadOnlySpan{int}, in ReadOnlyTensorSpan{bool})"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="targets"/> is null.</exception>
    public static Tensor<T> CrossEntropy<T>(Tensor<T> logits, Tensor<int> targets, PolyLossOptions options, ReadOnlySpan<int> axes, Tensor<bool>? where = null)
        => CrossEntropy<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(targets, nameof(targets)).AsReadOnlyTensorSpan(), options, axes, where is null ? default : where.AsReadOnlyTensorSpan());

    /// <summary>The dense-label loss and its gradient with respect to the logits (and optionally the labels), fused: <c>g_j = S p_j - y_j - epsilon p_j (y_j - Pt)</c> per row for Poly-1, S = sum_k y_k, Pt = sum_k y_k p_k. The gradient is that of the sum of the row losses.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="labels">Labels (one-hot or soft distributions), broadcastable to the logits' shape with NumPy's rules.</param>
    /// <param name="epsilon">The Poly-1 coefficient (default 2, the paper's value for ImageNet; -1 is its value for detection).</param>
    /// <param name="axis">The class axis; negative values count from the end (default -1, the last axis).</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax or the sums (optax's <c>where</c>); a fully masked row gives loss 0 and gradient 0.</param>
    /// <param name="computeLabelsGradient">Whether to also compute the gradient with respect to the labels (for example when the labels come from a teacher model).</param>
    /// <returns>The loss (shaped as for <c>CrossEntropy</c>), the dense logits gradient of the logits' shape (0 on masked-out elements) and, when requested, the labels gradient of the labels' shape.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is out of range for the logits' rank.</exception>
    /// <exception cref="ArgumentException"><paramref name="labels"/> or <paramref name="where"/> cannot be broadcast to the logits' shape (the message names both shapes); the logits are a default span or their class axis has no elements.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<T> labels, double epsilon = 2.0, int axis = -1, in ReadOnlyTensorSpan<bool> where = default, bool computeLabelsGradient = false)
        => Gradients(Compute(logits, labels, default, true, new ReadOnlySpan<int>(in axis), true, Eps(epsilon), strictTargets: true, where, default, true, computeLabelsGradient));

    /// <inheritdoc cref="CrossEntropyWithGradient{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{T}, double, int, in ReadOnlyTensorSpan{bool}, bool)"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="labels"/> is null.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(Tensor<T> logits, Tensor<T> labels, double epsilon = 2.0, int axis = -1, Tensor<bool>? where = null, bool computeLabelsGradient = false)
        => CrossEntropyWithGradient<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(labels, nameof(labels)).AsReadOnlyTensorSpan(), epsilon, axis, where is null ? default : where.AsReadOnlyTensorSpan(), computeLabelsGradient);

    /// <summary>The dense-label loss and its gradient with respect to the logits (and optionally the labels), fused: <c>g_j = S p_j - y_j - epsilon p_j (y_j - Pt)</c> per row for Poly-1, S = sum_k y_k, Pt = sum_k y_k p_k. The gradient is that of the sum of the row losses.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="labels">Labels (one-hot or soft distributions), broadcastable to the logits' shape with NumPy's rules.</param>
    /// <param name="axes">The class axes (negative values count from the end; any order; no repeats). Their elements form the C classes, flattened row-major in ascending axis order: the same as moving them to the end and reshaping them into one axis.</param>
    /// <param name="epsilon">The Poly-1 coefficient (default 2, the paper's value for ImageNet; -1 is its value for detection).</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax or the sums (optax's <c>where</c>); a fully masked row gives loss 0 and gradient 0.</param>
    /// <param name="computeLabelsGradient">Whether to also compute the gradient with respect to the labels (for example when the labels come from a teacher model).</param>
    /// <returns>The loss (shaped as for <c>CrossEntropy</c>), the dense logits gradient of the logits' shape (0 on masked-out elements) and, when requested, the labels gradient of the labels' shape.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An axis in <paramref name="axes"/> is out of range for the logits' rank.</exception>
    /// <exception cref="ArgumentException"><paramref name="labels"/> or <paramref name="where"/> cannot be broadcast to the logits' shape (the message names both shapes); the logits are a default span or their class axes have no elements; <paramref name="axes"/> is empty or repeats an axis.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<T> labels, ReadOnlySpan<int> axes, double epsilon = 2.0, in ReadOnlyTensorSpan<bool> where = default, bool computeLabelsGradient = false)
        => Gradients(Compute(logits, labels, default, true, axes, false, Eps(epsilon), strictTargets: true, where, default, true, computeLabelsGradient));

    /// <inheritdoc cref="CrossEntropyWithGradient{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{T}, ReadOnlySpan{int}, double, in ReadOnlyTensorSpan{bool}, bool)"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="labels"/> is null.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(Tensor<T> logits, Tensor<T> labels, ReadOnlySpan<int> axes, double epsilon = 2.0, Tensor<bool>? where = null, bool computeLabelsGradient = false)
        => CrossEntropyWithGradient<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(labels, nameof(labels)).AsReadOnlyTensorSpan(), axes, epsilon, where is null ? default : where.AsReadOnlyTensorSpan(), computeLabelsGradient);

    /// <summary>The dense-label loss and its gradient with respect to the logits (and optionally the labels), fused: <c>g_j = S p_j - y_j - epsilon p_j (y_j - Pt)</c> per row for Poly-1, S = sum_k y_k, Pt = sum_k y_k p_k. Options give Poly-N, class weights, label smoothing and Mean / Sum reductions, with the span API's meanings. The gradient is that of the loss output (of the sum of the row losses, weighted by <paramref name="upstream"/> when given; of the reduced value for Mean / Sum).</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="labels">Labels (one-hot or soft distributions), broadcastable to the logits' shape with NumPy's rules.</param>
    /// <param name="options">The options: Poly-N coefficients, class weights (length C), <see cref="PolyLossOptions.IgnoreIndex"/> (integer targets), label smoothing, reduction and parallelism, with the span API's meanings.</param>
    /// <param name="axis">The class axis; negative values count from the end (default -1, the last axis).</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax or the sums (optax's <c>where</c>); a fully masked row gives loss 0 and gradient 0.</param>
    /// <param name="upstream">Optional upstream gradient (default ones): for <see cref="Reduction.None"/> broadcastable to the loss shape, the gradient being that of <c>sum(upstream * loss)</c>; for Mean and Sum a single element scaling the reduced value.</param>
    /// <param name="computeLabelsGradient">Whether to also compute the gradient with respect to the labels (for example when the labels come from a teacher model).</param>
    /// <returns>The loss (shaped as for <c>CrossEntropy</c>), the dense logits gradient of the logits' shape (0 on masked-out elements) and, when requested, the labels gradient of the labels' shape.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half, or <paramref name="where"/> is combined with label smoothing.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is out of range for the logits' rank, or label smoothing is outside [0, 1].</exception>
    /// <exception cref="ArgumentException"><paramref name="labels"/>, <paramref name="where"/> or <paramref name="upstream"/> cannot be broadcast to the logits' shape (the message names both shapes); the logits are a default span or their class axis has no elements; or the class weights or Poly-N coefficients are invalid.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<T> labels, PolyLossOptions options, int axis = -1, in ReadOnlyTensorSpan<bool> where = default, in ReadOnlyTensorSpan<T> upstream = default, bool computeLabelsGradient = false)
        => Gradients(Compute(logits, labels, default, true, new ReadOnlySpan<int>(in axis), true, options, strictTargets: false, where, upstream, true, computeLabelsGradient));

    /// <inheritdoc cref="CrossEntropyWithGradient{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{T}, PolyLossOptions, int, in ReadOnlyTensorSpan{bool}, in ReadOnlyTensorSpan{T}, bool)"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="labels"/> is null.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(Tensor<T> logits, Tensor<T> labels, PolyLossOptions options, int axis = -1, Tensor<bool>? where = null, Tensor<T>? upstream = null, bool computeLabelsGradient = false)
        => CrossEntropyWithGradient<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(labels, nameof(labels)).AsReadOnlyTensorSpan(), options, axis, where is null ? default : where.AsReadOnlyTensorSpan(), upstream is null ? default : upstream.AsReadOnlyTensorSpan(), computeLabelsGradient);

    /// <summary>The dense-label loss and its gradient with respect to the logits (and optionally the labels), fused: <c>g_j = S p_j - y_j - epsilon p_j (y_j - Pt)</c> per row for Poly-1, S = sum_k y_k, Pt = sum_k y_k p_k. Options give Poly-N, class weights, label smoothing and Mean / Sum reductions, with the span API's meanings. The gradient is that of the loss output (of the sum of the row losses, weighted by <paramref name="upstream"/> when given; of the reduced value for Mean / Sum).</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="labels">Labels (one-hot or soft distributions), broadcastable to the logits' shape with NumPy's rules.</param>
    /// <param name="options">The options: Poly-N coefficients, class weights (length C), <see cref="PolyLossOptions.IgnoreIndex"/> (integer targets), label smoothing, reduction and parallelism, with the span API's meanings.</param>
    /// <param name="axes">The class axes (negative values count from the end; any order; no repeats). Their elements form the C classes, flattened row-major in ascending axis order: the same as moving them to the end and reshaping them into one axis.</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax or the sums (optax's <c>where</c>); a fully masked row gives loss 0 and gradient 0.</param>
    /// <param name="upstream">Optional upstream gradient (default ones): for <see cref="Reduction.None"/> broadcastable to the loss shape, the gradient being that of <c>sum(upstream * loss)</c>; for Mean and Sum a single element scaling the reduced value.</param>
    /// <param name="computeLabelsGradient">Whether to also compute the gradient with respect to the labels (for example when the labels come from a teacher model).</param>
    /// <returns>The loss (shaped as for <c>CrossEntropy</c>), the dense logits gradient of the logits' shape (0 on masked-out elements) and, when requested, the labels gradient of the labels' shape.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half, or <paramref name="where"/> is combined with label smoothing.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An axis in <paramref name="axes"/> is out of range for the logits' rank, or label smoothing is outside [0, 1].</exception>
    /// <exception cref="ArgumentException"><paramref name="labels"/>, <paramref name="where"/> or <paramref name="upstream"/> cannot be broadcast to the logits' shape (the message names both shapes); the logits are a default span or their class axes have no elements; <paramref name="axes"/> is empty or repeats an axis; or the class weights or Poly-N coefficients are invalid.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<T> labels, PolyLossOptions options, ReadOnlySpan<int> axes, in ReadOnlyTensorSpan<bool> where = default, in ReadOnlyTensorSpan<T> upstream = default, bool computeLabelsGradient = false)
        => Gradients(Compute(logits, labels, default, true, axes, false, options, strictTargets: false, where, upstream, true, computeLabelsGradient));

    /// <inheritdoc cref="CrossEntropyWithGradient{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{T}, PolyLossOptions, ReadOnlySpan{int}, in ReadOnlyTensorSpan{bool}, in ReadOnlyTensorSpan{T}, bool)"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="labels"/> is null.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(Tensor<T> logits, Tensor<T> labels, PolyLossOptions options, ReadOnlySpan<int> axes, Tensor<bool>? where = null, Tensor<T>? upstream = null, bool computeLabelsGradient = false)
        => CrossEntropyWithGradient<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(labels, nameof(labels)).AsReadOnlyTensorSpan(), options, axes, where is null ? default : where.AsReadOnlyTensorSpan(), upstream is null ? default : upstream.AsReadOnlyTensorSpan(), computeLabelsGradient);

    /// <summary>The integer-target loss and its gradient with respect to the logits, fused: <c>g_t = -(1 - p_t)(1 + epsilon p_t)</c>, <c>g_j = p_j (1 + epsilon p_t)</c> for j != t (Poly-1). The gradient is that of the sum of the row losses.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="targets">Integer class indices in [0, C), one per row: the loss (batch) shape or broadcastable to it. With several class axes a target is the row-major index over those axes in ascending axis order.</param>
    /// <param name="epsilon">The Poly-1 coefficient (default 2, the paper's value for ImageNet; -1 is its value for detection).</param>
    /// <param name="axis">The class axis; negative values count from the end (default -1, the last axis).</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax; a row whose target class is masked out, or that is fully masked, is treated like an ignored row (loss 0, gradient 0, not counted by a mean), and its target is not checked.</param>
    /// <returns>The loss (shaped as for <c>CrossEntropy</c>), the dense logits gradient of the logits' shape (0 on masked-out elements).</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is out of range for the logits' rank, or a target is outside [0, C) (the message names its batch index and value).</exception>
    /// <exception cref="ArgumentException"><paramref name="targets"/> or <paramref name="where"/> cannot be broadcast to the logits' (batch) shape (the message names both shapes); the logits are a default span or their class axis has no elements.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<int> targets, double epsilon = 2.0, int axis = -1, in ReadOnlyTensorSpan<bool> where = default)
        => Gradients(Compute(logits, default, targets, false, new ReadOnlySpan<int>(in axis), true, Eps(epsilon), strictTargets: true, where, default, true, false));

    /// <inheritdoc cref="CrossEntropyWithGradient{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{int}, double, int, in ReadOnlyTensorSpan{bool})"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="targets"/> is null.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(Tensor<T> logits, Tensor<int> targets, double epsilon = 2.0, int axis = -1, Tensor<bool>? where = null)
        => CrossEntropyWithGradient<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(targets, nameof(targets)).AsReadOnlyTensorSpan(), epsilon, axis, where is null ? default : where.AsReadOnlyTensorSpan());

    /// <summary>The integer-target loss and its gradient with respect to the logits, fused: <c>g_t = -(1 - p_t)(1 + epsilon p_t)</c>, <c>g_j = p_j (1 + epsilon p_t)</c> for j != t (Poly-1). The gradient is that of the sum of the row losses.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="targets">Integer class indices in [0, C), one per row: the loss (batch) shape or broadcastable to it. With several class axes a target is the row-major index over those axes in ascending axis order.</param>
    /// <param name="axes">The class axes (negative values count from the end; any order; no repeats). Their elements form the C classes, flattened row-major in ascending axis order: the same as moving them to the end and reshaping them into one axis.</param>
    /// <param name="epsilon">The Poly-1 coefficient (default 2, the paper's value for ImageNet; -1 is its value for detection).</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax; a row whose target class is masked out, or that is fully masked, is treated like an ignored row (loss 0, gradient 0, not counted by a mean), and its target is not checked.</param>
    /// <returns>The loss (shaped as for <c>CrossEntropy</c>), the dense logits gradient of the logits' shape (0 on masked-out elements).</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An axis in <paramref name="axes"/> is out of range for the logits' rank, or a target is outside [0, C) (the message names its batch index and value).</exception>
    /// <exception cref="ArgumentException"><paramref name="targets"/> or <paramref name="where"/> cannot be broadcast to the logits' (batch) shape (the message names both shapes); the logits are a default span or their class axes have no elements; <paramref name="axes"/> is empty or repeats an axis.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<int> targets, ReadOnlySpan<int> axes, double epsilon = 2.0, in ReadOnlyTensorSpan<bool> where = default)
        => Gradients(Compute(logits, default, targets, false, axes, false, Eps(epsilon), strictTargets: true, where, default, true, false));

    /// <inheritdoc cref="CrossEntropyWithGradient{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{int}, ReadOnlySpan{int}, double, in ReadOnlyTensorSpan{bool})"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="targets"/> is null.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(Tensor<T> logits, Tensor<int> targets, ReadOnlySpan<int> axes, double epsilon = 2.0, Tensor<bool>? where = null)
        => CrossEntropyWithGradient<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(targets, nameof(targets)).AsReadOnlyTensorSpan(), axes, epsilon, where is null ? default : where.AsReadOnlyTensorSpan());

    /// <summary>The integer-target loss and its gradient with respect to the logits, fused: <c>g_t = -(1 - p_t)(1 + epsilon p_t)</c>, <c>g_j = p_j (1 + epsilon p_t)</c> for j != t (Poly-1). Options give Poly-N, class weights, the ignore index, label smoothing and Mean / Sum reductions, with the span API's meanings. The gradient is that of the loss output (of the sum of the row losses, weighted by <paramref name="upstream"/> when given; of the reduced value for Mean / Sum).</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="targets">Integer class indices in [0, C) or equal to <see cref="PolyLossOptions.IgnoreIndex"/>, one per row: the loss (batch) shape or broadcastable to it. With several class axes a target is the row-major index over those axes in ascending axis order.</param>
    /// <param name="options">The options: Poly-N coefficients, class weights (length C), <see cref="PolyLossOptions.IgnoreIndex"/> (integer targets), label smoothing, reduction and parallelism, with the span API's meanings.</param>
    /// <param name="axis">The class axis; negative values count from the end (default -1, the last axis).</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax; a row whose target class is masked out, or that is fully masked, is treated like an ignored row (loss 0, gradient 0, not counted by a mean), and its target is not checked.</param>
    /// <param name="upstream">Optional upstream gradient (default ones): for <see cref="Reduction.None"/> broadcastable to the loss shape, the gradient being that of <c>sum(upstream * loss)</c>; for Mean and Sum a single element scaling the reduced value.</param>
    /// <returns>The loss (shaped as for <c>CrossEntropy</c>), the dense logits gradient of the logits' shape (0 on masked-out elements).</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half, or <paramref name="where"/> is combined with label smoothing.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is out of range for the logits' rank, or a target is outside [0, C) and not the ignore index (the message names its batch index and value), or label smoothing is outside [0, 1].</exception>
    /// <exception cref="ArgumentException"><paramref name="targets"/>, <paramref name="where"/> or <paramref name="upstream"/> cannot be broadcast to the logits' (batch) shape (the message names both shapes); the logits are a default span or their class axis has no elements; or the class weights or Poly-N coefficients are invalid.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<int> targets, PolyLossOptions options, int axis = -1, in ReadOnlyTensorSpan<bool> where = default, in ReadOnlyTensorSpan<T> upstream = default)
        => Gradients(Compute(logits, default, targets, false, new ReadOnlySpan<int>(in axis), true, options, strictTargets: false, where, upstream, true, false));

    /// <inheritdoc cref="CrossEntropyWithGradient{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{int}, PolyLossOptions, int, in ReadOnlyTensorSpan{bool}, in ReadOnlyTensorSpan{T})"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="targets"/> is null.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(Tensor<T> logits, Tensor<int> targets, PolyLossOptions options, int axis = -1, Tensor<bool>? where = null, Tensor<T>? upstream = null)
        => CrossEntropyWithGradient<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(targets, nameof(targets)).AsReadOnlyTensorSpan(), options, axis, where is null ? default : where.AsReadOnlyTensorSpan(), upstream is null ? default : upstream.AsReadOnlyTensorSpan());

    /// <summary>The integer-target loss and its gradient with respect to the logits, fused: <c>g_t = -(1 - p_t)(1 + epsilon p_t)</c>, <c>g_j = p_j (1 + epsilon p_t)</c> for j != t (Poly-1). Options give Poly-N, class weights, the ignore index, label smoothing and Mean / Sum reductions, with the span API's meanings. The gradient is that of the loss output (of the sum of the row losses, weighted by <paramref name="upstream"/> when given; of the reduced value for Mean / Sum).</summary>
    /// <typeparam name="T">The element type: <see cref="float"/>, <see cref="double"/> or <see cref="Half"/> (Half is computed in float and rounded back).</typeparam>
    /// <param name="logits">Logits of any rank; the class axis (or axes) holds the C classes of each row.</param>
    /// <param name="targets">Integer class indices in [0, C) or equal to <see cref="PolyLossOptions.IgnoreIndex"/>, one per row: the loss (batch) shape or broadcastable to it. With several class axes a target is the row-major index over those axes in ascending axis order.</param>
    /// <param name="options">The options: Poly-N coefficients, class weights (length C), <see cref="PolyLossOptions.IgnoreIndex"/> (integer targets), label smoothing, reduction and parallelism, with the span API's meanings.</param>
    /// <param name="axes">The class axes (negative values count from the end; any order; no repeats). Their elements form the C classes, flattened row-major in ascending axis order: the same as moving them to the end and reshaping them into one axis.</param>
    /// <param name="where">Optional mask, broadcastable to the logits' shape (default: every element takes part). Masked-out elements take no part in the softmax; a row whose target class is masked out, or that is fully masked, is treated like an ignored row (loss 0, gradient 0, not counted by a mean), and its target is not checked.</param>
    /// <param name="upstream">Optional upstream gradient (default ones): for <see cref="Reduction.None"/> broadcastable to the loss shape, the gradient being that of <c>sum(upstream * loss)</c>; for Mean and Sum a single element scaling the reduced value.</param>
    /// <returns>The loss (shaped as for <c>CrossEntropy</c>), the dense logits gradient of the logits' shape (0 on masked-out elements).</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half, or <paramref name="where"/> is combined with label smoothing.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An axis in <paramref name="axes"/> is out of range for the logits' rank, or a target is outside [0, C) and not the ignore index (the message names its batch index and value), or label smoothing is outside [0, 1].</exception>
    /// <exception cref="ArgumentException"><paramref name="targets"/>, <paramref name="where"/> or <paramref name="upstream"/> cannot be broadcast to the logits' (batch) shape (the message names both shapes); the logits are a default span or their class axes have no elements; <paramref name="axes"/> is empty or repeats an axis; or the class weights or Poly-N coefficients are invalid.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<int> targets, PolyLossOptions options, ReadOnlySpan<int> axes, in ReadOnlyTensorSpan<bool> where = default, in ReadOnlyTensorSpan<T> upstream = default)
        => Gradients(Compute(logits, default, targets, false, axes, false, options, strictTargets: false, where, upstream, true, false));

    /// <inheritdoc cref="CrossEntropyWithGradient{T}(in ReadOnlyTensorSpan{T}, in ReadOnlyTensorSpan{int}, PolyLossOptions, ReadOnlySpan{int}, in ReadOnlyTensorSpan{bool}, in ReadOnlyTensorSpan{T})"/>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="targets"/> is null.</exception>
    public static PolyTensorGradients<T> CrossEntropyWithGradient<T>(Tensor<T> logits, Tensor<int> targets, PolyLossOptions options, ReadOnlySpan<int> axes, Tensor<bool>? where = null, Tensor<T>? upstream = null)
        => CrossEntropyWithGradient<T>(NotNull(logits, nameof(logits)).AsReadOnlyTensorSpan(), NotNull(targets, nameof(targets)).AsReadOnlyTensorSpan(), options, axes, where is null ? default : where.AsReadOnlyTensorSpan(), upstream is null ? default : upstream.AsReadOnlyTensorSpan());

    private static PolyLossOptions Eps(double epsilon) => new() { Epsilon = epsilon };

    private static TTensor NotNull<TTensor>(TTensor? tensor, string name) where TTensor : class
        => tensor ?? throw new ArgumentNullException(name);

    private static EngineResult<T> Compute<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<T> labels, in ReadOnlyTensorSpan<int> targets,
        bool dense, ReadOnlySpan<int> axes, bool singleAxis, PolyLossOptions options, bool strictTargets, in ReadOnlyTensorSpan<bool> where,
        in ReadOnlyTensorSpan<T> upstream, bool wantGrad, bool wantLabelsGrad)
    {
        TensorEngine.RequireSupported<T>();
        ArgumentNullException.ThrowIfNull(options);
        TensorPlan plan = singleAxis ? TensorPlan.Create(logits.Lengths, axes[0]) : TensorPlan.Create(logits.Lengths, axes);
        return TensorEngine.Run(logits, labels, targets, dense, plan, options, strictTargets, where, upstream, wantGrad, wantLabelsGrad);
    }

    private static Tensor<T> Loss<T>(EngineResult<T> r) => Tensor.Create(r.Loss, r.LossShape);

    private static PolyTensorGradients<T> Gradients<T>(EngineResult<T> r)
        => new(Tensor.Create(r.Loss, r.LossShape), Tensor.Create(r.LogitsGradient!, r.GradientShape),
            r.LabelsGradient is null ? null : Tensor.Create(r.LabelsGradient, r.LabelsShape!));
}
