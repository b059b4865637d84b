using TorchSharp;
using static TorchSharp.torch;

namespace PolyLoss.TorchSharp;

using Reduction = global::TorchSharp.torch.nn.Reduction;
using Tensor = global::TorchSharp.torch.Tensor;

/// <summary>
/// Path (a): the losses as compositions of TorchSharp operations, differentiated by LibTorch's autograd. Every
/// operation stays on the input's device and dtype; nothing is read back to the host.
/// </summary>
internal static class Composite
{
    /// <summary>Poly-1 cross entropy with integer class targets (class dimension 1; targets already int64).</summary>
    /// <remarks>
    /// With y the (smoothed) one-hot label of target t and w the class weights (all ones when absent):
    /// row loss = sum_k w_k y_k [-log p_k + eps (1 - p_k)], i.e. w_t [-log p_t + eps (1 - p_t)] without smoothing.
    /// Ignored rows give 0 and are left out of the mean, whose denominator is the sum of w_t over the other rows.
    /// </remarks>
    public static Tensor CrossEntropy(Tensor input, Tensor target, double epsilon, Tensor? weight, long ignoreIndex,
        Reduction reduction, double labelSmoothing)
    {
        using var scope = NewDisposeScope();
        long numClasses = input.shape[1];
        Tensor logP = nn.functional.log_softmax(input, 1);
        Tensor ignored = target.eq(ignoreIndex);
        Tensor safeTarget = target.masked_fill(ignored, 0);

        Tensor logPt = logP.gather(1, safeTarget.unsqueeze(1)).squeeze(1);
        // 1 - p_t as -expm1(log p_t): no cancellation when p_t is close to 1.
        Tensor row = logPt.neg() - epsilon * logPt.expm1();
        Tensor? weightT = weight is null ? null : weight.take(safeTarget);
        if (weightT is not null) row = row * weightT;

        if (labelSmoothing > 0)
        {
            Tensor perClass = logP.neg() - epsilon * logP.expm1();
            if (weight is not null) perClass = perClass * ClassView(weight, input.dim());
            row = (1 - labelSmoothing) * row + (labelSmoothing / numClasses) * perClass.sum(1);
        }
        row = row.masked_fill(ignored, 0);

        Tensor result = reduction switch
        {
            Reduction.None => row,
            Reduction.Sum => row.sum(),
            _ => row.sum() / (weightT is null
                ? ignored.logical_not().sum().to(row.dtype)
                : weightT.masked_fill(ignored, 0).sum()),
        };
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Poly-1 cross entropy with dense (probability) targets of the input's shape and dtype.</summary>
    /// <remarks>row loss = sum_k w_k y_k [-log p_k + eps (1 - p_k)] with y = (1 - s) target + s / C; the mean
    /// divides by the number of rows (all dimensions but the class dimension), as PyTorch does.</remarks>
    public static Tensor CrossEntropyDense(Tensor input, Tensor target, double epsilon, Tensor? weight, Reduction reduction,
        double labelSmoothing)
    {
        using var scope = NewDisposeScope();
        long numClasses = input.shape[1];
        Tensor logP = nn.functional.log_softmax(input, 1);
        Tensor y = labelSmoothing > 0 ? (1 - labelSmoothing) * target + labelSmoothing / numClasses : target;
        if (weight is not null) y = y * ClassView(weight, input.dim());

        Tensor perClass = logP.neg() - epsilon * logP.expm1();
        // A zero label contributes nothing even where log p_k = -inf (0 * inf would be NaN); elsewhere the
        // per-class term stays as it is, so d loss / d y_k is right also where y_k = 0.
        perClass = perClass.masked_fill(y.eq(0).logical_and(logP.isneginf()), 0);
        Tensor row = (y * perClass).sum(1);

        Tensor result = reduction switch
        {
            Reduction.None => row,
            Reduction.Sum => row.sum(),
            _ => row.mean(),
        };
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Sigmoid Poly-1 focal loss, element-wise.</summary>
    /// <remarks>
    /// p = sigmoid(z), p_t = y p + (1 - y)(1 - p), CE = binary cross entropy with logits,
    /// loss = alpha_t (1 - p_t)^gamma CE + eps (1 - p_t)^(gamma + 1), alpha_t = alpha y + (1 - alpha)(1 - y) (1 without alpha).
    /// </remarks>
    public static Tensor SigmoidFocal(Tensor input, Tensor target, double epsilon, double gamma, double? alpha, Reduction reduction)
    {
        using var scope = NewDisposeScope();
        Tensor ce = nn.functional.binary_cross_entropy_with_logits(input, target, reduction: Reduction.None);
        // 1 - p_t = y (1 - p) + (1 - y) p, with 1 - p = sigmoid(-z) so that nothing cancels when p is close to 1.
        Tensor oneMinusPt = target * torch.sigmoid(input.neg()) + (1 - target) * torch.sigmoid(input);
        Tensor loss = gamma == 0 ? ce : ce * oneMinusPt.pow(gamma);
        if (alpha is double a) loss = loss * (a * target + (1 - a) * (1 - target));
        if (epsilon != 0) loss = loss + epsilon * oneMinusPt.pow(gamma + 1);

        Tensor result = reduction switch
        {
            Reduction.None => loss,
            Reduction.Sum => loss.sum(),
            _ => loss.mean(),
        };
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The class weights shaped [1, C, 1, ...] to broadcast along the class dimension of a rank-<paramref name="rank"/> tensor.</summary>
    private static Tensor ClassView(Tensor weight, long rank)
    {
        var shape = new long[rank];
        Array.Fill(shape, 1L);
        shape[1] = weight.shape[0];
        return weight.view(shape);
    }
}
