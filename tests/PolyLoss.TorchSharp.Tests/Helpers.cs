using TorchSharp;
using static TorchSharp.torch;

namespace PolyLoss.TorchSharp.Tests;

using Reduction = global::TorchSharp.torch.nn.Reduction;
using Tensor = global::TorchSharp.torch.Tensor;

/// <summary>One configuration of the cross-entropy options, for theories.</summary>
public sealed record CeCase(bool Dense, bool Weighted, bool Ignore, double Smoothing, Reduction Reduction, bool Spatial, ScalarType DType)
{
    public override string ToString() =>
        $"{(Dense ? "dense" : "int")},{(Weighted ? "w" : "-")},{(Ignore ? "ign" : "-")},s={Smoothing},{Reduction},{(Spatial ? "NCHW" : "NC")},{DType}";

    /// <summary>Every combination (ignore_index only with integer targets).</summary>
    public static IEnumerable<CeCase> All()
    {
        foreach (bool dense in new[] { false, true })
        foreach (bool weighted in new[] { false, true })
        foreach (bool ignore in dense ? new[] { false } : new[] { false, true })
        foreach (double s in new[] { 0.0, 0.15 })
        foreach (Reduction r in new[] { Reduction.None, Reduction.Mean, Reduction.Sum })
        foreach (bool spatial in new[] { false, true })
        foreach (ScalarType t in new[] { ScalarType.Float32, ScalarType.Float64 })
            yield return new CeCase(dense, weighted, ignore, s, r, spatial, t);
    }

    public static TheoryData<CeCase> Data()
    {
        var data = new TheoryData<CeCase>();
        foreach (var c in All()) data.Add(c);
        return data;
    }
}

/// <summary>Random inputs for a <see cref="CeCase"/>, built from a fixed seed.</summary>
public sealed class CeInputs
{
    public const long IgnoreIndex = 2; // inside [0, C): the ignored class must not be read as a real one

    public required Tensor Logits { get; init; }
    public required Tensor Target { get; init; }
    public Tensor? Weight { get; init; }
    public required Tensor Upstream { get; init; }
    public required int NumClasses { get; init; }

    public static CeInputs Make(CeCase c, int seed = 1234, int n = 7, int numClasses = 5)
    {
        using var _ = no_grad();
        var g = new Generator((ulong)seed);
        long[] shape = c.Spatial ? [n, numClasses, 3, 2] : [n, numClasses];
        long[] rowShape = c.Spatial ? [n, 3, 2] : [n];
        Tensor logits = (2.5 * randn(shape, ScalarType.Float64, generator: g)).to(c.DType);
        Tensor target;
        if (c.Dense)
        {
            // Soft labels that do not sum to one per row, with some exact zeros: the general case.
            Tensor y = rand(shape, ScalarType.Float64, generator: g);
            y = y.masked_fill(y.lt(0.2), 0);
            target = y.to(c.DType);
        }
        else
        {
            target = randint(0, numClasses, rowShape, ScalarType.Int64, generator: g);
            if (c.Ignore)
            {
                Tensor mask = rand(rowShape, ScalarType.Float64, generator: g).lt(0.3);
                target = target.masked_fill(mask, IgnoreIndex);
            }
        }
        Tensor? weight = c.Weighted ? (0.25 + 2 * rand([numClasses], ScalarType.Float64, generator: g)).to(c.DType) : null;
        Tensor upstream = c.Reduction == Reduction.None
            ? (randn(rowShape, ScalarType.Float64, generator: g)).to(c.DType)
            : tensor(1.7, c.DType);
        return new CeInputs { Logits = logits, Target = target, Weight = weight, Upstream = upstream, NumClasses = numClasses };
    }
}

public static class TensorAssert
{
    public static double[] ToDoubles(Tensor t)
    {
        using var _ = no_grad();
        return t.detach().to(ScalarType.Float64).contiguous().data<double>().ToArray();
    }

    /// <summary>|a - b| &lt;= atol + rtol |b| element-wise, NaN only where both are NaN.</summary>
    public static void Close(double[] expected, double[] actual, double rtol, double atol, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) || double.IsNaN(a))
            {
                Assert.True(double.IsNaN(e) && double.IsNaN(a), $"{what}[{i}]: {a}, expected {e}");
                continue;
            }
            Assert.True(Math.Abs(a - e) <= atol + rtol * Math.Abs(e), $"{what}[{i}]: {a:R}, expected {e:R} (diff {Math.Abs(a - e):E3})");
        }
    }

    public static void Close(Tensor expected, Tensor actual, double rtol, double atol, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        Close(ToDoubles(expected), ToDoubles(actual), rtol, atol, what);
    }

    /// <summary>Relative and absolute tolerances for comparing two computations of the same float quantity.</summary>
    public static (double rtol, double atol) Tolerance(ScalarType t) =>
        t == ScalarType.Float64 ? (1e-11, 1e-12) : (2e-5, 2e-6);
}

/// <summary>Runs a loss and returns its value and the gradients of (loss * upstream).sum() w.r.t. the logits and, if asked, the target.</summary>
public static class Grad
{
    public static (Tensor value, Tensor gradInput, Tensor? gradTarget) Of(Func<Tensor, Tensor, Tensor> loss, Tensor logits, Tensor target,
        Tensor upstream, bool targetGrad = false)
    {
        Tensor x = logits.detach().clone().requires_grad_(true);
        Tensor y = targetGrad ? target.detach().clone().requires_grad_(true) : target;
        Tensor value = loss(x, y);
        (value * upstream).sum().backward();
        return (value.detach(), x.grad!.detach().clone(), targetGrad ? y.grad!.detach().clone() : null);
    }
}

/// <summary>The public functions by backend: Auto is the plain name, Fused and Composite the suffixed twins.</summary>
public static class Doors
{
    public static Tensor poly_loss_cross_entropy(Tensor input, Tensor target, PolyLossBackend backend, double epsilon = 2.0,
        Tensor? weight = null, long ignore_index = -100, Reduction reduction = Reduction.Mean, double label_smoothing = 0.0) => backend switch
    {
        PolyLossBackend.Fused => functional.poly_loss_cross_entropy_fused(input, target, epsilon, weight, ignore_index, reduction, label_smoothing),
        PolyLossBackend.Composite => functional.poly_loss_cross_entropy_composite(input, target, epsilon, weight, ignore_index, reduction, label_smoothing),
        _ => functional.poly_loss_cross_entropy(input, target, epsilon, weight, ignore_index, reduction, label_smoothing),
    };

    public static Tensor poly1_focal_loss(Tensor input, Tensor target, PolyLossBackend backend, double epsilon = 1.0, double gamma = 2.0,
        double? alpha = null, Reduction reduction = Reduction.Mean) => backend switch
    {
        PolyLossBackend.Fused => functional.poly1_focal_loss_fused(input, target, epsilon, gamma, alpha, reduction),
        PolyLossBackend.Composite => functional.poly1_focal_loss_composite(input, target, epsilon, gamma, alpha, reduction),
        _ => functional.poly1_focal_loss(input, target, epsilon, gamma, alpha, reduction),
    };
}
