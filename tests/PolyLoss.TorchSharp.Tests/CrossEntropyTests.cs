using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace PolyLoss.TorchSharp.Tests;

using Reduction = global::TorchSharp.torch.nn.Reduction;
using Tensor = global::TorchSharp.torch.Tensor;
using CoreReduction = global::PolyLoss.Reduction;

public class CrossEntropyTests
{
    private const double Epsilon = 2.0;

    public static TheoryData<CeCase> Cases => CeCase.Data();

    private static Func<Tensor, Tensor, Tensor> Loss(CeCase c, CeInputs d, PolyLossBackend backend, double epsilon = Epsilon) =>
        (x, y) => Doors.poly_loss_cross_entropy(x, y, backend, epsilon, d.Weight, c.Ignore ? CeInputs.IgnoreIndex : -100,
            c.Reduction, c.Smoothing);

    [Theory]
    [MemberData(nameof(Cases))]
    public void FusedAndCompositePathsAgreeOnValuesAndGradients(CeCase c)
    {
        var d = CeInputs.Make(c);
        var (rtol, atol) = TensorAssert.Tolerance(c.DType);
        var fused = Grad.Of(Loss(c, d, PolyLossBackend.Fused), d.Logits, d.Target, d.Upstream, targetGrad: c.Dense);
        var composite = Grad.Of(Loss(c, d, PolyLossBackend.Composite), d.Logits, d.Target, d.Upstream, targetGrad: c.Dense);

        Assert.Equal(c.DType, fused.value.dtype);
        TensorAssert.Close(composite.value, fused.value, rtol, atol, "loss");
        TensorAssert.Close(composite.gradInput, fused.gradInput, rtol, atol, "d loss / d input");
        if (c.Dense) TensorAssert.Close(composite.gradTarget!, fused.gradTarget!, rtol, atol, "d loss / d target");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BothPathsMatchTheCoreLibraryKernels(CeCase c)
    {
        var d = CeInputs.Make(c);
        var (expectedLoss, expectedGrad) = CoreReference(c, d);
        // The reference runs in double on the same (float32-representable) inputs.
        double rtol = c.DType == ScalarType.Float64 ? 1e-11 : 5e-5, atol = c.DType == ScalarType.Float64 ? 1e-12 : 5e-6;
        foreach (var backend in new[] { PolyLossBackend.Fused, PolyLossBackend.Composite })
        {
            var got = Grad.Of(Loss(c, d, backend), d.Logits, d.Target, d.Upstream);
            TensorAssert.Close(expectedLoss, TensorAssert.ToDoubles(got.value), rtol, atol, $"{backend} loss");
            TensorAssert.Close(expectedGrad, TensorAssert.ToDoubles(got.gradInput), rtol, atol, $"{backend} gradient");
        }
    }

    /// <summary>The core library's double-precision kernel on the rows of the case (class dimension moved last),
    /// with the gradient moved back to the input's layout.</summary>
    private static (double[] loss, double[] grad) CoreReference(CeCase c, CeInputs d)
    {
        int numClasses = d.NumClasses;
        Tensor rowsOf(Tensor t) => (t.dim() > 2 ? t.movedim([1], [-1]) : t).to(ScalarType.Float64).contiguous();
        double[] logits = TensorAssert.ToDoubles(rowsOf(d.Logits));
        int rows = logits.Length / numClasses;
        var options = new PolyLossOptions
        {
            Epsilon = Epsilon,
            Weight = d.Weight is null ? null : TensorAssert.ToDoubles(d.Weight),
            IgnoreIndex = c.Ignore ? (int)CeInputs.IgnoreIndex : -100,
            LabelSmoothing = c.Smoothing,
            Reduction = c.Reduction switch { Reduction.None => CoreReduction.None, Reduction.Sum => CoreReduction.Sum, _ => CoreReduction.Mean },
        };
        double[] upstream = TensorAssert.ToDoubles(d.Upstream);
        var losses = new double[c.Reduction == Reduction.None ? rows : 1];
        var grad = new double[logits.Length];
        if (c.Dense)
            Poly.CrossEntropyWithGradient(logits, TensorAssert.ToDoubles(rowsOf(d.Target)), losses, grad, numClasses, options, upstream);
        else
            Poly.CrossEntropyWithGradient(logits, TensorAssert.ToDoubles(d.Target).Select(v => (int)v).ToArray(), losses, grad, numClasses,
                options, upstream);

        Tensor g = tensor(grad, ScalarType.Float64);
        long[] shape = d.Logits.shape;
        g = c.Spatial ? g.view(shape[0], shape[2], shape[3], shape[1]).movedim([3], [1]) : g.view(shape);
        return (losses, TensorAssert.ToDoubles(g));
    }

    public static TheoryData<CeCase, PolyLossBackend> ParityCases()
    {
        var data = new TheoryData<CeCase, PolyLossBackend>();
        foreach (var c in CeCase.All())
        foreach (var b in new[] { PolyLossBackend.Fused, PolyLossBackend.Composite })
            data.Add(c, b);
        return data;
    }

    [Theory]
    [MemberData(nameof(ParityCases))]
    public void EpsilonZeroEqualsTorchSharpCrossEntropyIncludingWeightsIgnoreIndexAndSmoothing(CeCase c, PolyLossBackend backend)
    {
        var d = CeInputs.Make(c);
        long ignore = c.Ignore ? CeInputs.IgnoreIndex : -100;
        var ours = Grad.Of(Loss(c, d, backend, epsilon: 0), d.Logits, d.Target, d.Upstream, targetGrad: c.Dense);
        var theirs = Grad.Of((x, y) => nn.functional.cross_entropy(x, y, d.Weight, ignore, c.Reduction, c.Smoothing),
            d.Logits, d.Target, d.Upstream, targetGrad: c.Dense);

        var (rtol, atol) = c.DType == ScalarType.Float64 ? (1e-12, 1e-13) : (3e-6, 1e-6);
        TensorAssert.Close(theirs.value, ours.value, rtol, atol, "loss");
        TensorAssert.Close(theirs.gradInput, ours.gradInput, rtol, atol, "d loss / d input");
        if (c.Dense) TensorAssert.Close(theirs.gradTarget!, ours.gradTarget!, rtol, atol, "d loss / d target");
    }

    public static TheoryData<CeCase, PolyLossBackend> FiniteDifferenceCases()
    {
        var data = new TheoryData<CeCase, PolyLossBackend>();
        foreach (var c in CeCase.All().Where(c => c.DType == ScalarType.Float64))
        foreach (var b in new[] { PolyLossBackend.Fused, PolyLossBackend.Composite })
            data.Add(c, b);
        return data;
    }

    [Theory]
    [MemberData(nameof(FiniteDifferenceCases))]
    public void GradientsMatchCentralFiniteDifferencesInDouble(CeCase c, PolyLossBackend backend)
    {
        var d = CeInputs.Make(c, n: 3, numClasses: 4);
        var loss = Loss(c, d, backend);
        var analytic = Grad.Of(loss, d.Logits, d.Target, d.Upstream, targetGrad: c.Dense);

        double Objective(Tensor x, Tensor y)
        {
            using var _ = no_grad();
            return (loss(x, y) * d.Upstream).sum().to(ScalarType.Float64).item<double>();
        }

        CheckFiniteDifferences(d.Logits, x => Objective(x, d.Target), analytic.gradInput, "d loss / d input");
        if (c.Dense)
            CheckFiniteDifferences(d.Target, y => Objective(d.Logits, y), analytic.gradTarget!, "d loss / d target");
    }

    private static void CheckFiniteDifferences(Tensor at, Func<Tensor, double> f, Tensor analytic, string what)
    {
        const double h = 1e-6;
        double[] x0 = TensorAssert.ToDoubles(at);
        double[] expected = new double[x0.Length];
        for (int i = 0; i < x0.Length; i++)
        {
            double[] plus = (double[])x0.Clone(), minus = (double[])x0.Clone();
            plus[i] += h;
            minus[i] -= h;
            expected[i] = (f(tensor(plus).view(at.shape)) - f(tensor(minus).view(at.shape))) / (2 * h);
        }
        TensorAssert.Close(expected, TensorAssert.ToDoubles(analytic), 1e-6, 1e-7, what);
    }

    [Theory]
    [InlineData(PolyLossBackend.Fused)]
    [InlineData(PolyLossBackend.Composite)]
    public void TwoEqualLogitsGiveLn2PlusEpsilonTimesOneHalf(PolyLossBackend backend)
    {
        // p_t = 1/2: CE = ln 2 and the Poly-1 term is eps * (1 - 1/2).
        Tensor logits = tensor(new double[] { 0.3, 0.3, -1.0, -1.0 }).view(2, 2);
        Tensor target = tensor(new long[] { 0, 1 });
        Tensor loss = Doors.poly_loss_cross_entropy(logits, target, backend, epsilon: 2.0, reduction: Reduction.None);
        TensorAssert.Close(new[] { Math.Log(2) + 1, Math.Log(2) + 1 }, TensorAssert.ToDoubles(loss), 1e-15, 0, "loss");
    }

    [Theory]
    [InlineData(PolyLossBackend.Fused)]
    [InlineData(PolyLossBackend.Composite)]
    public void IgnoredRowsHaveZeroLossAndZeroGradient(PolyLossBackend backend)
    {
        Tensor logits = randn(4, 3, ScalarType.Float64);
        Tensor target = tensor(new long[] { 1, -100, 2, -100 });
        var r = Grad.Of((x, y) => Doors.poly_loss_cross_entropy(x, y, backend, reduction: Reduction.None), logits, target, ones(4, ScalarType.Float64));
        double[] loss = TensorAssert.ToDoubles(r.value), grad = TensorAssert.ToDoubles(r.gradInput);
        Assert.Equal(0.0, loss[1]);
        Assert.Equal(0.0, loss[3]);
        Assert.True(loss[0] > 0 && loss[2] > 0);
        Assert.All(grad.Skip(3).Take(3).Concat(grad.Skip(9)), v => Assert.Equal(0.0, v));
        Assert.Contains(grad.Take(3), v => v != 0);
    }

    [Theory]
    [InlineData(PolyLossBackend.Fused)]
    [InlineData(PolyLossBackend.Composite)]
    public void MeanOverOnlyIgnoredRowsIsNaNAsInTorchSharp(PolyLossBackend backend)
    {
        Tensor logits = randn(3, 4, ScalarType.Float32);
        Tensor target = full(3, -100L, ScalarType.Int64);
        double ours = Doors.poly_loss_cross_entropy(logits, target, backend).to(ScalarType.Float64).item<double>();
        double theirs = nn.functional.cross_entropy(logits, target).to(ScalarType.Float64).item<double>();
        Assert.True(double.IsNaN(theirs));
        Assert.True(double.IsNaN(ours));
    }

    [Theory]
    [InlineData(PolyLossBackend.Fused, false)]
    [InlineData(PolyLossBackend.Composite, false)]
    [InlineData(PolyLossBackend.Fused, true)]
    [InlineData(PolyLossBackend.Composite, true)]
    public void UnbatchedInputEqualsABatchOfOne(PolyLossBackend backend, bool dense)
    {
        Tensor logits = randn(6, ScalarType.Float64);
        Tensor target = dense ? softmax(randn(6, ScalarType.Float64), 0) : tensor(4L);
        Tensor single = Doors.poly_loss_cross_entropy(logits, target, backend, reduction: Reduction.None);
        Tensor batch = Doors.poly_loss_cross_entropy(logits.unsqueeze(0), target.unsqueeze(0), backend, reduction: Reduction.None);
        Assert.Empty(single.shape);
        TensorAssert.Close(batch.squeeze(0), single, 1e-15, 0, "loss");
    }

    [Theory]
    [InlineData(Reduction.None)]
    [InlineData(Reduction.Mean)]
    public void FusedPathGivesTheCompositeResultForChannelsLastAndTransposedInputs(Reduction reduction)
    {
        // A channels-last view ([N, H, W, C] memory seen as [N, C, H, W]) and a transposed [N, C] view.
        Tensor nhwc = randn(new long[] { 2, 3, 4, 5 }, ScalarType.Float64).permute(0, 3, 1, 2);
        Tensor spatialTarget = randint(0, 5, new long[] { 2, 3, 4 }, ScalarType.Int64);
        Tensor transposed = randn(5, 6, ScalarType.Float64).t();
        Tensor target = randint(0, 5, new long[] { 6 }, ScalarType.Int64);
        foreach (var (x, y) in new[] { (nhwc, spatialTarget), (transposed, target) })
        {
            Assert.False(x.is_contiguous());
            Tensor up = reduction == Reduction.None ? randn(y.shape, ScalarType.Float64) : tensor(1.0);
            var fused = Grad.Of((a, b) =>
            {
                Assert.False(a.is_contiguous()); // clone() keeps the strides
                return Doors.poly_loss_cross_entropy(a, b, PolyLossBackend.Fused, reduction: reduction);
            }, x, y, up);
            var composite = Grad.Of((a, b) => Doors.poly_loss_cross_entropy(a, b, PolyLossBackend.Composite, reduction: reduction), x, y, up);
            TensorAssert.Close(composite.value, fused.value, 1e-12, 1e-13, "loss");
            TensorAssert.Close(composite.gradInput, fused.gradInput, 1e-12, 1e-13, "gradient");
        }
    }

    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void CompositePathRunsInHalfPrecisionCloseToTheDoubleResult(ScalarType dtype)
    {
        var c = new CeCase(false, true, true, 0.1, Reduction.Mean, true, ScalarType.Float64);
        var d = CeInputs.Make(c);
        Tensor reference = Doors.poly_loss_cross_entropy(d.Logits, d.Target, PolyLossBackend.Composite, 2.0, d.Weight, CeInputs.IgnoreIndex,
            Reduction.Mean, 0.1);
        Tensor x = d.Logits.to(dtype).requires_grad_(true);
        Tensor loss = functional.poly_loss_cross_entropy(x, d.Target, 2.0, d.Weight!.to(dtype), CeInputs.IgnoreIndex, Reduction.Mean, 0.1);
        loss.backward();
        Assert.Equal(dtype, loss.dtype);
        Assert.Equal(dtype, x.grad!.dtype);
        TensorAssert.Close(reference, loss, 3e-2, 1e-2, "loss");
    }

    [Fact]
    public void CompositePathOnEveryAvailableDeviceMatchesTheFusedCpuResult()
    {
        var c = new CeCase(false, true, true, 0.1, Reduction.Mean, true, ScalarType.Float32);
        var d = CeInputs.Make(c);
        var expected = Grad.Of(Loss(c, d, PolyLossBackend.Fused), d.Logits, d.Target, d.Upstream);
        var devices = new List<Device> { CPU };
        if (cuda.is_available()) devices.Add(CUDA);
        foreach (Device device in devices)
        {
            Tensor w = d.Weight!.to(device);
            var got = Grad.Of((x, y) => Doors.poly_loss_cross_entropy(x, y, PolyLossBackend.Composite, 2.0, w, CeInputs.IgnoreIndex, Reduction.Mean, 0.1),
                d.Logits.to(device), d.Target.to(device), d.Upstream.to(device));
            Assert.Equal(device.type, got.value.device_type);
            TensorAssert.Close(expected.value, got.value.cpu(), 2e-5, 2e-6, $"{device} loss");
            TensorAssert.Close(expected.gradInput, got.gradInput.cpu(), 2e-5, 2e-6, $"{device} gradient");
        }
    }

    [Fact]
    public void AutoUsesTheFusedKernelsForCpuFloat32AndFloat64()
    {
        // The fused path reports an out-of-range target as ArgumentOutOfRangeException before touching the kernels;
        // LibTorch's gather in the composite path throws its own error type.
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            Tensor logits = randn(3, 4, dtype);
            Tensor bad = tensor(new long[] { 0, 7, 1 });
            Assert.Throws<ArgumentOutOfRangeException>(() => functional.poly_loss_cross_entropy(logits, bad));
            Assert.ThrowsAny<Exception>(() => Doors.poly_loss_cross_entropy(logits, bad, PolyLossBackend.Composite));
            Assert.Equal(PolyLossBackend.Fused, functional.ChooseCrossEntropy(PolyLossBackend.Auto, logits, bad, null));
        }
    }

    [Fact]
    public void AutoUsesTheCompositePathForOtherDtypesAndNonContiguousRows()
    {
        Tensor target = tensor(new long[] { 0, 1, 2 });
        Assert.Equal(PolyLossBackend.Composite, functional.ChooseCrossEntropy(PolyLossBackend.Auto, randn(3, 4).to(ScalarType.BFloat16), target, null));
        Assert.Equal(PolyLossBackend.Composite, functional.ChooseCrossEntropy(PolyLossBackend.Auto, randn(4, 3).t(), target, null));
        Assert.Equal(PolyLossBackend.Composite, functional.ChooseCrossEntropy(PolyLossBackend.Auto, randn(0, 3), tensor(Array.Empty<long>()), null));
        // [N, C, H, W] in the default layout would need a copy into rows of classes.
        Tensor spatialTarget = randint(0, 3, new long[] { 2, 4, 5 }, ScalarType.Int64);
        Assert.Equal(PolyLossBackend.Composite, functional.ChooseCrossEntropy(PolyLossBackend.Auto, randn(2, 3, 4, 5), spatialTarget, null));
    }

    [Fact]
    public void AutoUsesTheFusedKernelsForChannelsLastSpatialInputs()
    {
        Tensor channelsLast = randn(2, 4, 5, 3).permute(0, 3, 1, 2); // [N, C, H, W] view of [N, H, W, C] memory
        Tensor target = randint(0, 3, new long[] { 2, 4, 5 }, ScalarType.Int64);
        Assert.Equal(PolyLossBackend.Fused, functional.ChooseCrossEntropy(PolyLossBackend.Auto, channelsLast, target, null));
    }

    [Fact]
    public void ForcingTheFusedPathOnAnUnsupportedDtypeThrowsNotSupported()
    {
        Tensor logits = randn(3, 4).to(ScalarType.BFloat16);
        Assert.Throws<NotSupportedException>(() =>
            Doors.poly_loss_cross_entropy(logits, tensor(new long[] { 0, 1, 2 }), PolyLossBackend.Fused));
    }

    [Fact]
    public void FusedForwardWithoutGradientStillReturnsTheLoss()
    {
        Tensor logits = randn(5, 3, ScalarType.Float32);
        Tensor target = randint(0, 3, new long[] { 5 }, ScalarType.Int64);
        using (no_grad())
        {
            Tensor a = Doors.poly_loss_cross_entropy(logits, target, PolyLossBackend.Fused);
            Tensor b = Doors.poly_loss_cross_entropy(logits, target, PolyLossBackend.Composite);
            Assert.False(a.requires_grad);
            TensorAssert.Close(b, a, 2e-6, 1e-6, "loss");
        }
    }

    [Fact]
    public void FusedBackwardRunTwiceWithRetainedGraphAccumulatesTwiceTheGradient()
    {
        Tensor logits = randn(6, 4, ScalarType.Float64);
        Tensor target = tensor(new long[] { 0, 3, 1, 2, 2, 0 });
        Tensor x = logits.clone().requires_grad_(true);
        Tensor loss = functional.poly_loss_cross_entropy_fused(x, target);
        loss.backward(null, retain_graph: true);
        Tensor once = x.grad!.clone();
        loss.backward();
        TensorAssert.Close(2 * once, x.grad!, 1e-15, 0, "accumulated gradient");
        var reference = Grad.Of((a, b) => functional.poly_loss_cross_entropy_composite(a, b), logits, target, tensor(1.0, ScalarType.Float64));
        TensorAssert.Close(reference.gradInput, once, 1e-12, 1e-13, "gradient");
    }

    [Fact]
    public void IntegerTargetsOfOtherWidthsGiveTheInt64Result()
    {
        Tensor logits = randn(4, 3, ScalarType.Float64);
        Tensor target = tensor(new long[] { 2, 0, 1, 1 });
        Tensor expected = functional.poly_loss_cross_entropy(logits, target);
        TensorAssert.Close(expected, functional.poly_loss_cross_entropy(logits, target.to(ScalarType.Int32)), 0, 0, "int32 targets");
        TensorAssert.Close(expected, Doors.poly_loss_cross_entropy(logits, target.to(ScalarType.Int32), PolyLossBackend.Composite), 1e-14, 0, "int32 targets, composite");
    }

    [Fact]
    public void MismatchedShapesAndOutOfRangeOptionsThrowArgumentException()
    {
        Tensor logits = randn(4, 3);
        Assert.Throws<ArgumentException>(() => functional.poly_loss_cross_entropy(logits, tensor(new long[] { 0, 1, 2 })));
        Assert.Throws<ArgumentException>(() => functional.poly_loss_cross_entropy(logits, randn(4, 2)));
        Assert.Throws<ArgumentException>(() => functional.poly_loss_cross_entropy(logits, tensor(new long[] { 0, 1, 2, 0 }), label_smoothing: 1.5));
        Assert.Throws<ArgumentException>(() => functional.poly_loss_cross_entropy(logits, tensor(new long[] { 0, 1, 2, 0 }), weight: ones(4)));
        Assert.Throws<ArgumentException>(() => functional.poly_loss_cross_entropy(logits, tensor(new long[] { 0, 1, 2, 0 }), epsilon: double.NaN));
        Assert.Throws<ArgumentException>(() => functional.poly_loss_cross_entropy(logits, tensor(new bool[] { true, false, true, false })));
        Assert.Throws<ArgumentException>(() => functional.poly_loss_cross_entropy(logits, softmax(randn(4, 3), 1), ignore_index: 0));
    }
}
