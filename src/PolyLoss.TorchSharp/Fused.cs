using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace PolyLoss.TorchSharp;

using Reduction = global::TorchSharp.torch.nn.Reduction;
using Tensor = global::TorchSharp.torch.Tensor;
using AutogradContext = global::TorchSharp.torch.autograd.AutogradContext;
using CoreReduction = global::PolyLoss.Reduction;

/// <summary>
/// Path (b): custom autograd functions whose forward and backward run the core library's fused kernels directly on
/// the memory of CPU float32 / float64 tensors, laid out as contiguous rows of classes (copied into that layout only
/// when they are not already).
/// </summary>
internal static class Fused
{
    /// <summary>Poly-1 cross entropy (integer or dense targets) through <see cref="CrossEntropyFunction"/>.</summary>
    public static Tensor CrossEntropy(Tensor input, Tensor target, bool dense, double epsilon, Tensor? weight,
        long ignoreIndex, Reduction reduction, double labelSmoothing)
    {
        using var scope = NewDisposeScope();
        int numClasses = checked((int)input.shape[1]);
        // Rows of classes: the class dimension moved last. A copy only when the input is not already laid out
        // that way (spatial inputs in the default [N, C, d1, ...] layout); autograd maps the gradient back.
        Tensor logits = ToRows(input);
        int rows = checked((int)(logits.numel() / Math.Max(numClasses, 1)));
        long[] outputShape = reduction == Reduction.None ? WithoutClassDim(input.shape) : [];

        var options = new PolyLossOptions
        {
            Epsilon = epsilon,
            Weight = weight is null ? null : ReadWeights(weight, numClasses),
            LabelSmoothing = labelSmoothing,
            Reduction = ToCore(reduction),
            IgnoreIndex = dense ? -100 : IgnoreValue(ignoreIndex),
            MaxDegreeOfParallelism = Threads(),
        };
        Tensor? labels = null;
        int[]? targets = null;
        if (dense) labels = ToRows(target.to(input.dtype));
        else targets = ToInt32Targets(target, ignoreIndex, numClasses, options.IgnoreIndex);

        var spec = new CrossEntropySpec(numClasses, rows, targets, options, outputShape, labels?.requires_grad ?? false);
        Tensor result = CrossEntropyFunction.apply(logits, labels!, spec);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Sigmoid Poly-1 focal loss through <see cref="SigmoidFocalFunction"/>.</summary>
    public static Tensor SigmoidFocal(Tensor input, Tensor target, double epsilon, double gamma, double? alpha, Reduction reduction)
    {
        using var scope = NewDisposeScope();
        Tensor logits = input.contiguous();
        Tensor labels = target.to(input.dtype).contiguous();
        var options = new FocalOptions { Epsilon = epsilon, Gamma = gamma, Alpha = alpha, Reduction = ToCore(reduction), MaxDegreeOfParallelism = Threads() };
        var spec = new FocalSpec(options, reduction == Reduction.None ? input.shape : []);
        Tensor result = SigmoidFocalFunction.apply(logits, labels, spec);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Why the fused path cannot take these tensors, or null when it can.</summary>
    public static string? Unsupported(Tensor input, Tensor target, Tensor? weight)
    {
        if (input.device_type != DeviceType.CPU) return $"the input is on {input.device}";
        if (input.dtype != ScalarType.Float32 && input.dtype != ScalarType.Float64)
            return $"the input is {input.dtype}; the fused kernels take Float32 and Float64";
        if (target.device_type != DeviceType.CPU) return $"the target is on {target.device}";
        if (weight is not null && weight.device_type != DeviceType.CPU) return $"the weight is on {weight.device}";
        // TorchSharp exposes a tensor's memory as one Span<byte>, so a tensor must fit in int.MaxValue bytes.
        long bytes = input.numel() * (input.dtype == ScalarType.Float32 ? 4 : 8);
        if (bytes > int.MaxValue) return $"the input holds {bytes} bytes, more than one span can address (2 GiB)";
        return null;
    }

    /// <summary>The fused kernels use as many threads as LibTorch's intra-op pool (<c>torch.set_num_threads</c>).</summary>
    private static int Threads() => Math.Max(1, torch.get_num_threads());

    /// <summary>The tensor with dimension 1 moved last, contiguous (no copy when it already is).</summary>
    private static Tensor ToRows(Tensor t)
    {
        Tensor moved = t.dim() > 2 ? t.movedim([1], [-1]) : t;
        return moved.contiguous();
    }

    private static long[] WithoutClassDim(long[] shape)
    {
        var result = new long[shape.Length - 1];
        result[0] = shape[0];
        Array.Copy(shape, 2, result, 1, shape.Length - 2);
        return result;
    }

    private static CoreReduction ToCore(Reduction reduction) => reduction switch
    {
        Reduction.None => CoreReduction.None,
        Reduction.Sum => CoreReduction.Sum,
        _ => CoreReduction.Mean,
    };

    private static double[] ReadWeights(Tensor weight, int numClasses)
    {
        using Tensor w = weight.to(ScalarType.Float64).contiguous();
        double[] result = w.data<double>().ToArray();
        if (result.Length != numClasses)
            throw new ArgumentException($"weight has {result.Length} elements; the input has {numClasses} classes.", nameof(weight));
        return result;
    }

    /// <summary>The int value that stands for ignore_index in the converted targets (any negative value when
    /// ignore_index itself does not fit in an int, since every other target is checked to lie in [0, C)).</summary>
    private static int IgnoreValue(long ignoreIndex) =>
        ignoreIndex is >= int.MinValue and <= int.MaxValue ? (int)ignoreIndex : int.MinValue;

    /// <summary>Converts int64 (or other integer) targets to the int32 the core kernels take: a copy of one int per row.</summary>
    private static int[] ToInt32Targets(Tensor target, long ignoreIndex, int numClasses, int ignoreValue)
    {
        using Tensor t = target.to(ScalarType.Int64).contiguous();
        ReadOnlySpan<long> source = Elements<long>(t);
        var result = new int[source.Length];
        for (int i = 0; i < source.Length; i++)
        {
            long v = source[i];
            if (v == ignoreIndex) result[i] = ignoreValue;
            else if ((ulong)v < (ulong)numClasses) result[i] = (int)v;
            else throw new ArgumentOutOfRangeException(nameof(target), v,
                $"Target {v} at flat position {i} is out of bounds for {numClasses} classes (and is not ignore_index {ignoreIndex}).");
        }
        return result;
    }

    /// <summary>The elements of a contiguous CPU tensor, in place (no copy).</summary>
    internal static Span<T> Elements<T>(Tensor t) where T : unmanaged =>
        t.numel() == 0 ? Span<T>.Empty : MemoryMarshal.Cast<byte, T>(t.bytes);

    /// <summary>What the cross-entropy autograd function needs besides the tensors.</summary>
    internal sealed record CrossEntropySpec(int NumClasses, int Rows, int[]? Targets, PolyLossOptions Options,
        long[] OutputShape, bool LabelsRequireGrad);

    /// <summary>What the focal autograd function needs besides the tensors.</summary>
    internal sealed record FocalSpec(FocalOptions Options, long[] OutputShape);

    /// <summary>
    /// Forward: the core's loss kernel. Backward: the core's fused loss-and-gradient kernel with grad_output as the
    /// upstream factor, writing straight into the gradient tensors. Saves only the inputs (like PyTorch's own
    /// cross entropy), so nothing of size [rows, C] is kept between forward and backward.
    /// </summary>
    internal sealed class CrossEntropyFunction : torch.autograd.SingleTensorFunction<CrossEntropyFunction>
    {
        /// <inheritdoc />
        public override string Name => "PolyLossCrossEntropyFused";

        /// <inheritdoc />
        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            var logits = (Tensor)vars[0];
            var labels = vars[1] as Tensor;
            var spec = (CrossEntropySpec)vars[2];
            Tensor output = torch.empty(spec.OutputShape, logits.dtype);
            if (logits.dtype == ScalarType.Float32)
            {
                Span<float> losses = Elements<float>(output);
                if (labels is null) Poly.CrossEntropy(Elements<float>(logits), spec.Targets, losses, spec.NumClasses, spec.Options);
                else Poly.CrossEntropy(Elements<float>(logits), (ReadOnlySpan<float>)Elements<float>(labels), losses, spec.NumClasses, spec.Options);
            }
            else
            {
                Span<double> losses = Elements<double>(output);
                if (labels is null) Poly.CrossEntropy(Elements<double>(logits), spec.Targets, losses, spec.NumClasses, spec.Options);
                else Poly.CrossEntropy(Elements<double>(logits), (ReadOnlySpan<double>)Elements<double>(labels), losses, spec.NumClasses, spec.Options);
            }
            ctx.save_for_backward([logits, labels!]);
            ctx.save_data(nameof(CrossEntropySpec), spec);
            return output;
        }

        /// <inheritdoc />
        public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
        {
            List<Tensor> saved = ctx.get_saved_variables();
            Tensor logits = saved[0];
            Tensor? labels = saved.Count > 1 ? saved[1] : null;
            var spec = (CrossEntropySpec)ctx.get_data(nameof(CrossEntropySpec));
            using Tensor upstream = grad_output.to(logits.dtype).contiguous();
            Tensor gradLogits = torch.empty_like(logits);
            Tensor? gradLabels = spec.LabelsRequireGrad && labels is not null ? torch.empty_like(labels) : null;
            int lossCount = spec.Options.Reduction == CoreReduction.None ? spec.Rows : 1;

            if (logits.dtype == ScalarType.Float32)
            {
                var losses = new float[lossCount];
                if (labels is null)
                    Poly.CrossEntropyWithGradient(Elements<float>(logits), spec.Targets, losses, Elements<float>(gradLogits),
                        spec.NumClasses, spec.Options, Elements<float>(upstream));
                else
                    Poly.CrossEntropyWithGradient(Elements<float>(logits), (ReadOnlySpan<float>)Elements<float>(labels), losses,
                        Elements<float>(gradLogits), spec.NumClasses, spec.Options, Elements<float>(upstream),
                        gradLabels is null ? default : Elements<float>(gradLabels));
            }
            else
            {
                var losses = new double[lossCount];
                if (labels is null)
                    Poly.CrossEntropyWithGradient(Elements<double>(logits), spec.Targets, losses, Elements<double>(gradLogits),
                        spec.NumClasses, spec.Options, Elements<double>(upstream));
                else
                    Poly.CrossEntropyWithGradient(Elements<double>(logits), (ReadOnlySpan<double>)Elements<double>(labels), losses,
                        Elements<double>(gradLogits), spec.NumClasses, spec.Options, Elements<double>(upstream),
                        gradLabels is null ? default : Elements<double>(gradLabels));
            }
            return [gradLogits, gradLabels!, null!];
        }
    }

    /// <summary>
    /// Forward: the core's sigmoid focal kernel. Backward: the same kernel with the element-wise gradient written
    /// into the gradient tensor, then scaled in place by grad_output (and by 1/n for the mean).
    /// </summary>
    internal sealed class SigmoidFocalFunction : torch.autograd.SingleTensorFunction<SigmoidFocalFunction>
    {
        /// <inheritdoc />
        public override string Name => "PolyLossSigmoidFocalFused";

        /// <inheritdoc />
        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            var logits = (Tensor)vars[0];
            var labels = (Tensor)vars[1];
            var spec = (FocalSpec)vars[2];
            Tensor output = torch.empty(spec.OutputShape, logits.dtype);
            if (logits.dtype == ScalarType.Float32)
                Poly.SigmoidFocal(Elements<float>(logits), Elements<float>(labels), Elements<float>(output), spec.Options);
            else
                Poly.SigmoidFocal(Elements<double>(logits), Elements<double>(labels), Elements<double>(output), spec.Options);
            ctx.save_for_backward([logits, labels]);
            ctx.save_data(nameof(FocalSpec), spec);
            return output;
        }

        /// <inheritdoc />
        public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
        {
            List<Tensor> saved = ctx.get_saved_variables();
            Tensor logits = saved[0], labels = saved[1];
            var spec = (FocalSpec)ctx.get_data(nameof(FocalSpec));
            var perElement = new FocalOptions
            {
                Epsilon = spec.Options.Epsilon, Gamma = spec.Options.Gamma, Alpha = spec.Options.Alpha,
                Reduction = CoreReduction.None, MaxDegreeOfParallelism = spec.Options.MaxDegreeOfParallelism,
            };
            Tensor gradLogits = torch.empty_like(logits);
            int count = checked((int)logits.numel());
            if (logits.dtype == ScalarType.Float32)
                Poly.SigmoidFocal(Elements<float>(logits), Elements<float>(labels), new float[count], perElement, Elements<float>(gradLogits));
            else
                Poly.SigmoidFocal(Elements<double>(logits), Elements<double>(labels), new double[count], perElement, Elements<double>(gradLogits));

            gradLogits.mul_(grad_output);
            if (spec.Options.Reduction == CoreReduction.Mean && count > 0) gradLogits.div_(count);
            return [gradLogits, null!, null!];
        }
    }
}
