using TorchSharp;
using static TorchSharp.torch;

namespace PolyLoss.TorchSharp.Tests;

using Reduction = global::TorchSharp.torch.nn.Reduction;
using Tensor = global::TorchSharp.torch.Tensor;

public class FocalTests
{
    public static readonly PolyLossBackend[] Backends = [PolyLossBackend.Fused, PolyLossBackend.Composite];

    public static TheoryData<PolyLossBackend, Reduction, ScalarType> BackendReductionDtype()
    {
        var data = new TheoryData<PolyLossBackend, Reduction, ScalarType>();
        foreach (var b in Backends)
        foreach (var r in new[] { Reduction.None, Reduction.Mean, Reduction.Sum })
        foreach (var t in new[] { ScalarType.Float32, ScalarType.Float64 })
            data.Add(b, r, t);
        return data;
    }

    private static (Tensor logits, Tensor labels, Tensor upstream) Inputs(ScalarType dtype, Reduction reduction, bool soft = false)
    {
        var g = new Generator(99);
        Tensor logits = (3 * randn(new long[] { 5, 4 }, ScalarType.Float64, generator: g)).to(dtype);
        Tensor u = rand(new long[] { 5, 4 }, ScalarType.Float64, generator: g);
        Tensor labels = (soft ? u : u.gt(0.5).to(ScalarType.Float64)).to(dtype);
        Tensor upstream = reduction == Reduction.None ? randn(new long[] { 5, 4 }, ScalarType.Float64, generator: g).to(dtype) : tensor(0.8, dtype);
        return (logits, labels, upstream);
    }

    [Theory]
    [MemberData(nameof(BackendReductionDtype))]
    public void GammaZeroEpsilonZeroEqualsBinaryCrossEntropyWithLogits(PolyLossBackend backend, Reduction reduction, ScalarType dtype)
    {
        var (logits, labels, upstream) = Inputs(dtype, reduction, soft: true);
        var ours = Grad.Of((x, y) => Doors.poly1_focal_loss(x, y, backend, epsilon: 0, gamma: 0, reduction: reduction), logits, labels, upstream);
        var theirs = Grad.Of((x, y) => nn.functional.binary_cross_entropy_with_logits(x, y, reduction: reduction), logits, labels, upstream);
        var (rtol, atol) = TensorAssert.Tolerance(dtype);
        TensorAssert.Close(theirs.value, ours.value, rtol, atol, "loss");
        TensorAssert.Close(theirs.gradInput, ours.gradInput, rtol, atol, "gradient");
    }

    [Theory]
    [MemberData(nameof(BackendReductionDtype))]
    public void MatchesTheFormulaEvaluatedElementByElementInDouble(PolyLossBackend backend, Reduction reduction, ScalarType dtype)
    {
        const double eps = 1.5, gamma = 2.0, alpha = 0.25;
        var (logits, labels, _) = Inputs(dtype, reduction);
        double[] z = TensorAssert.ToDoubles(logits), y = TensorAssert.ToDoubles(labels);
        var expected = new double[z.Length];
        for (int i = 0; i < z.Length; i++)
        {
            double p = 1 / (1 + Math.Exp(-z[i]));
            double pt = y[i] == 1 ? p : 1 - p;
            double alphaT = y[i] == 1 ? alpha : 1 - alpha;
            expected[i] = -alphaT * Math.Pow(1 - pt, gamma) * Math.Log(pt) + eps * Math.Pow(1 - pt, gamma + 1);
        }
        double[] want = reduction switch
        {
            Reduction.None => expected,
            Reduction.Sum => [expected.Sum()],
            _ => [expected.Average()],
        };
        Tensor got = Doors.poly1_focal_loss(logits, labels, backend, eps, gamma, alpha, reduction);
        double rtol = dtype == ScalarType.Float64 ? 1e-12 : 2e-5;
        TensorAssert.Close(want, TensorAssert.ToDoubles(got), rtol, rtol * 1e-1, "loss");
    }

    [Theory]
    [MemberData(nameof(BackendReductionDtype))]
    public void GradientsMatchCentralFiniteDifferencesInDouble(PolyLossBackend backend, Reduction reduction, ScalarType dtype)
    {
        if (dtype != ScalarType.Float64) return; // finite differences need double; float32 agreement is checked elsewhere
        var (logits, labels, upstream) = Inputs(dtype, reduction);
        Func<Tensor, Tensor, Tensor> loss = (x, y) => Doors.poly1_focal_loss(x, y, backend, 1.0, 2.0, 0.75, reduction);
        var analytic = Grad.Of(loss, logits, labels, upstream);
        double[] x0 = TensorAssert.ToDoubles(logits), fd = new double[x0.Length];
        const double h = 1e-6;
        double F(double[] v)
        {
            using var _ = no_grad();
            return (loss(tensor(v).view(logits.shape), labels) * upstream).sum().item<double>();
        }
        for (int i = 0; i < x0.Length; i++)
        {
            double[] a = (double[])x0.Clone(), b = (double[])x0.Clone();
            a[i] += h;
            b[i] -= h;
            fd[i] = (F(a) - F(b)) / (2 * h);
        }
        TensorAssert.Close(fd, TensorAssert.ToDoubles(analytic.gradInput), 1e-6, 1e-8, "gradient");
    }

    [Theory]
    [InlineData(Reduction.None, ScalarType.Float32)]
    [InlineData(Reduction.None, ScalarType.Float64)]
    [InlineData(Reduction.Mean, ScalarType.Float32)]
    [InlineData(Reduction.Mean, ScalarType.Float64)]
    [InlineData(Reduction.Sum, ScalarType.Float32)]
    [InlineData(Reduction.Sum, ScalarType.Float64)]
    public void FusedAndCompositePathsAgreeOnValuesAndGradients(Reduction reduction, ScalarType dtype)
    {
        foreach (bool soft in new[] { false, true })
        foreach (double? alpha in new double?[] { null, 0.25 })
        foreach (var (eps, gamma) in new[] { (1.0, 2.0), (-1.0, 2.0), (2.0, 0.5), (0.0, 0.0) })
        {
            var (logits, labels, upstream) = Inputs(dtype, reduction, soft);
            var fused = Grad.Of((x, y) => functional.poly1_focal_loss_fused(x, y, eps, gamma, alpha, reduction), logits, labels, upstream);
            var composite = Grad.Of((x, y) => functional.poly1_focal_loss_composite(x, y, eps, gamma, alpha, reduction), logits, labels, upstream);
            var (rtol, atol) = TensorAssert.Tolerance(dtype);
            string what = $"soft={soft} alpha={alpha} eps={eps} gamma={gamma}";
            TensorAssert.Close(composite.value, fused.value, rtol, atol, what + " loss");
            TensorAssert.Close(composite.gradInput, fused.gradInput, rtol, atol, what + " gradient");
        }
    }

    [Fact]
    public void FocalWithSpatialShapeAndNonContiguousInputMatchesAcrossPaths()
    {
        Tensor logits = randn(new long[] { 2, 5, 3, 4 }, ScalarType.Float64).permute(0, 2, 3, 1);
        Tensor labels = rand(new long[] { 2, 3, 4, 5 }, ScalarType.Float64).gt(0.6).to(ScalarType.Float64);
        Tensor up = randn(new long[] { 2, 3, 4, 5 }, ScalarType.Float64);
        var fused = Grad.Of((x, y) => functional.poly1_focal_loss_fused(x, y, reduction: Reduction.None), logits, labels, up);
        var composite = Grad.Of((x, y) => functional.poly1_focal_loss_composite(x, y, reduction: Reduction.None), logits, labels, up);
        TensorAssert.Close(composite.value, fused.value, 1e-12, 1e-13, "loss");
        TensorAssert.Close(composite.gradInput, fused.gradInput, 1e-12, 1e-13, "gradient");
    }

    [Fact]
    public void AutoDifferentiatesTheTargetThroughTheCompositePathAndFusedRefusesIt()
    {
        var (logits, labels, upstream) = Inputs(ScalarType.Float64, Reduction.Mean, soft: true);
        var auto = Grad.Of((x, y) => functional.poly1_focal_loss(x, y), logits, labels, upstream, targetGrad: true);
        var composite = Grad.Of((x, y) => functional.poly1_focal_loss_composite(x, y), logits, labels, upstream, targetGrad: true);
        TensorAssert.Close(composite.gradTarget!, auto.gradTarget!, 0, 0, "d loss / d target");
        Assert.Throws<NotSupportedException>(() =>
            functional.poly1_focal_loss_fused(logits, labels.clone().requires_grad_(true)));
    }

    [Fact]
    public void AutoUsesTheFusedKernelForCpuFloatTensors()
    {
        // The core kernel rejects targets outside [0, 1] (ArgumentOutOfRangeException); the composite path does not check.
        Tensor logits = randn(3, 2, ScalarType.Float32);
        Tensor labels = tensor(new float[] { 0, 1, 1, 0, 2, 0 }).view(3, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => functional.poly1_focal_loss(logits, labels));
        functional.poly1_focal_loss_composite(logits, labels).Dispose();
    }
}
