using PolyLoss.Internal;

namespace PolyLoss.Tests.Focal;

/// <summary>Sigmoid focal loss: reduction to BCE, limits at +-inf, NaN isolation, reductions, determinism, closed forms.</summary>
public class SigmoidFocalTests
{
    private static readonly FocalOptions Bce = new() { Gamma = 0, Epsilon = 0 };

    private static readonly double[] BceXs =
        [double.NegativeInfinity, -1e4, -800, -745.5, -100, -36.7, -17.25, -1, -0.3, -1e-9, -0.0, 0, 1e-300, 1e-9, 0.5, 2, 20, 36.7, 100, 709.9, 800, 1e4, double.PositiveInfinity];

    private static readonly double[] BceTs = [0, 1, 0.3, 0.9, 1e-3, 0.5, 0.999];

    // ---- gamma = 0, eps = 0: binary cross entropy, bit for bit ----

    /// <summary>softplus(y) = max(y, 0) + log1p(exp(-|y|)) and BCE = t softplus(-x) + (1 - t) softplus(x) (a zero weight
    /// contributes nothing), in the arithmetic the library uses for the type: plain double for float32, double-double for float64.</summary>
    private static double BceSameForm<TR>(double x, double t) where TR : struct, IReal<TR>
    {
        static TR Softplus(double y) => TR.From(Math.Max(y, 0)) + TR.Log1p(TR.ExpShifted(-Math.Abs(y), 0));
        // weight * softplus, a weight of 1 taken as is, and an infinite softplus multiplied in plain double (the
        // double-double product meets 0 * inf in its low part).
        static TR Times(TR w, TR v) => TR.ToDouble(w) == 1 ? v : double.IsInfinity(TR.ToDouble(v)) ? TR.From(TR.ToDouble(w) * TR.ToDouble(v)) : w * v;
        TR? ce = null;
        if (t != 0) ce = Times(TR.From(t), Softplus(-x));
        if (t != 1)
        {
            TR v = Times(TR.From(1) - TR.From(t), Softplus(x));
            ce = ce is { } c ? c + v : v;
        }
        return TR.ToDouble(ce!.Value);
    }

    [Fact]
    public void Gamma0_eps0_is_binary_cross_entropy_bit_for_bit_double()
    {
        var rng = new Random(7);
        var xs = BceXs.Concat(Enumerable.Range(0, 200).Select(_ => (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-3, 4)))).ToArray();
        foreach (double t in BceTs.Concat([rng.NextDouble(), rng.NextDouble()]))
        {
            var ts = Enumerable.Repeat(t, xs.Length).ToArray();
            var losses = new double[xs.Length];
            Poly.SigmoidFocal(xs, ts, losses, Bce);
            for (int i = 0; i < xs.Length; i++)
                Assert.Equal(BitConverter.DoubleToInt64Bits(BceSameForm<R128>(xs[i], t)), BitConverter.DoubleToInt64Bits(losses[i]));
        }
    }

    [Fact]
    public void Gamma0_eps0_is_binary_cross_entropy_bit_for_bit_float()
    {
        var rng = new Random(8);
        var xs = BceXs.Select(x => (float)x).Concat(Enumerable.Range(0, 200).Select(_ => (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-3, 4))))).ToArray();
        foreach (float t in BceTs.Select(v => (float)v).Concat([(float)rng.NextDouble()]))
        {
            var ts = Enumerable.Repeat(t, xs.Length).ToArray();
            var losses = new float[xs.Length];
            Poly.SigmoidFocal(xs, ts, losses, Bce);
            for (int i = 0; i < xs.Length; i++)
                Assert.Equal(BitConverter.SingleToInt32Bits((float)BceSameForm<R64>(xs[i], t)), BitConverter.SingleToInt32Bits(losses[i]));
        }
    }

    [Fact]
    public void Gamma0_eps0_matches_exact_bce_to_half_an_ulp()
    {
        foreach (double t in BceTs)
            foreach (double x in BceXs.Where(double.IsFinite))
            {
                var l = new double[1];
                Poly.SigmoidFocal([x], [t], l, Bce);
                Assert.True(FocalReference.Bce(x, t).UlpErrorDouble(l[0]) <= 0.5 + 1e-9 || Math.Abs(l[0]) < 1e-300, $"x={x} t={t}: {l[0]:R}");
            }
    }

    [Fact]
    public void Gamma0_eps0_gradient_is_p_minus_t()
    {
        double[] xs = [-30, -2, 0, 0.75, 3, 40];
        foreach (double t in new[] { 0, 1, 0.25 })
        {
            var g = new double[xs.Length];
            Poly.SigmoidFocal(xs, Enumerable.Repeat(t, xs.Length).ToArray(), new double[xs.Length], Bce, g);
            for (int i = 0; i < xs.Length; i++)
            {
                double expected = t == 1 ? -1 / (1 + Math.Exp(xs[i])) : 1 / (1 + Math.Exp(-xs[i])) - t;
                Assert.Equal(expected, g[i], Math.Abs(expected) * 1e-14 + 1e-300);
            }
        }
    }

    // ---- closed forms and defaults ----

    [Fact]
    public void Defaults_are_gamma2_no_alpha_eps1()
    {
        var d = FocalOptions.Default;
        Assert.Equal(2.0, d.Gamma);
        Assert.Null(d.Alpha);
        Assert.Null(d.ClassAlpha);
        Assert.Equal(1.0, d.Epsilon);
        Assert.Equal(Reduction.None, d.Reduction);
        Assert.Equal(-1, d.MaxDegreeOfParallelism);
    }

    [Fact]
    public void At_zero_logit_matches_closed_form()
    {
        // p = 1/2, pt = 1/2: FL = alpha_t / 4 * ln 2 + eps / 8; dFL/dx = (1 - 2t)/4 * (gamma/2 * (ln 2 alpha_t + eps/2)... checked by value.
        var l = new double[1];
        var g = new double[1];
        Poly.SigmoidFocal([0.0], [1.0], l, FocalOptions.Default, g);
        Assert.Equal(0.25 * Math.Log(2) + 0.125, l[0], 1e-16);
        // u = 1/2, u' = -1/4, CE' = -1/2, F = ln 2 + 1/2: g = u^2 (CE' + u') + 2 u u' F = 1/4 (-3/4) - 1/4 (ln 2 + 1/2).
        Assert.Equal(-0.1875 - 0.25 * (Math.Log(2) + 0.5), g[0], 1e-16);

        Poly.SigmoidFocal([0.0], [0.0], l, new FocalOptions { Alpha = 0.25, Epsilon = -1 });
        Assert.Equal(0.25 * 0.75 * Math.Log(2) - 0.125, l[0], 1e-16);
    }

    [Theory]
    [InlineData(2.0, null, 1.0)]
    [InlineData(2.0, 0.25, -1.0)]
    [InlineData(0.5, 0.75, 2.0)]
    [InlineData(0.0, null, -1.0)]
    public void Hard_target_equals_two_class_softmax_focal(double gamma, double? alpha, double eps)
    {
        double[] xs = [-1e4, -50, -3.5, -0.25, 0, 0.125, 1, 8, 60, 1e4];
        foreach (int t in new[] { 0, 1 })
            foreach (double x in xs)
            {
                var ls = new double[1];
                var gs = new double[1];
                Poly.SigmoidFocal([x], [(double)t], ls, new FocalOptions { Gamma = gamma, Alpha = alpha, Epsilon = eps }, gs);
                var lm = new double[1];
                var gm = new double[2];
                double[]? ca = alpha is { } a ? [1 - a, a] : null;
                Poly.SoftmaxFocal([0.0, x], [t], lm, 2, new FocalOptions { Gamma = gamma, ClassAlpha = ca, Epsilon = eps }, gm);
                AssertClose(lm[0], ls[0], 2, $"loss x={x} t={t}");
                AssertClose(gm[1], gs[0], 2, $"gradient x={x} t={t}");
                Assert.Equal(-gm[1], gm[0], Math.Abs(gm[0]) * 1e-15);
            }
    }

    private static void AssertClose(double expected, double actual, double ulps, string what)
    {
        double tol = ulps * Math.Max(Math.Abs(double.BitIncrement(Math.Abs(expected)) - Math.Abs(expected)), double.Epsilon);
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: expected {expected:R}, got {actual:R}");
    }

    // ---- infinities and NaN ----

    [Theory]
    [InlineData(double.PositiveInfinity, 1.0, null, 0.0, 0.0)]
    [InlineData(double.PositiveInfinity, 0.0, null, double.PositiveInfinity, 1.0)]
    [InlineData(double.NegativeInfinity, 1.0, null, double.PositiveInfinity, -1.0)]
    [InlineData(double.NegativeInfinity, 0.0, null, 0.0, 0.0)]
    [InlineData(double.PositiveInfinity, 0.0, 0.25, double.PositiveInfinity, 0.75)]
    [InlineData(double.NegativeInfinity, 1.0, 0.25, double.PositiveInfinity, -0.25)]
    [InlineData(double.PositiveInfinity, 0.0, 1.0, 1.0, 0.0)] // alpha_t = 0: only eps (1 - pt)^3 = 1 is left
    [InlineData(double.PositiveInfinity, 0.3, null, double.PositiveInfinity, 0.343)] // u^2 (p - t) = 0.7^2 * 0.7
    [InlineData(double.NegativeInfinity, 0.3, null, double.PositiveInfinity, -0.027)] // 0.3^2 * (0 - 0.3)
    public void Infinite_logits_give_the_limits(double x, double t, double? alpha, double loss, double grad)
    {
        var opts = new FocalOptions { Alpha = alpha };
        var l = new double[1];
        var g = new double[1];
        Poly.SigmoidFocal([x], [t], l, opts, g);
        Assert.Equal(loss, l[0], 1e-15);
        Assert.Equal(grad, g[0], 1e-15);

        // The same limits in float, and a huge finite logit agrees with the gradient at infinity.
        var lf = new float[1];
        var gf = new float[1];
        Poly.SigmoidFocal([(float)x], [(float)t], lf, opts, gf);
        Assert.Equal((float)loss, lf[0], 1e-6f);
        Assert.Equal((float)grad, gf[0], 1e-6f);
        Poly.SigmoidFocal([Math.CopySign(1e300, x)], [t], l, opts, g);
        Assert.Equal(grad, g[0], 1e-15);
    }

    [Fact]
    public void Infinite_logits_never_give_nan_for_any_setting()
    {
        foreach (var s in SigmoidFocalAccuracyTests.Settings)
            foreach (double t in new[] { 0, 1, 0.3, 1e-3 })
                foreach (double x in new[] { double.NegativeInfinity, double.PositiveInfinity, -1e308, 1e308 })
                {
                    var l = new double[1];
                    var g = new double[1];
                    Poly.SigmoidFocal([x], [t], l, new FocalOptions { Gamma = s.Gamma, Alpha = s.Alpha, Epsilon = s.Eps }, g);
                    Assert.False(double.IsNaN(l[0]) || double.IsNaN(g[0]), $"x={x} t={t} {s}: {l[0]}, {g[0]}");
                    Assert.True(double.IsFinite(g[0]));
                }
    }

    [Fact]
    public void Nan_propagates_to_its_element_only()
    {
        double[] xs = [1.5, double.NaN, -2, 3, 0.5];
        double[] ts = [1, 0, double.NaN, 0.25, 0];
        var l = new double[5];
        var g = new double[5];
        Poly.SigmoidFocal(xs, ts, l, FocalOptions.Default, g);
        Assert.True(double.IsNaN(l[1]) && double.IsNaN(g[1]));
        Assert.True(double.IsNaN(l[2]) && double.IsNaN(g[2]));
        foreach (int i in new[] { 0, 3, 4 })
        {
            var li = new double[1];
            var gi = new double[1];
            Poly.SigmoidFocal([xs[i]], [ts[i]], li, FocalOptions.Default, gi);
            Assert.Equal(li[0], l[i]);
            Assert.Equal(gi[0], g[i]);
        }

        var sum = new double[1];
        Poly.SigmoidFocal(xs, ts, sum, new FocalOptions { Reduction = Reduction.Sum });
        Assert.True(double.IsNaN(sum[0]));
    }

    // ---- reductions and threads ----

    [Theory]
    [InlineData(Reduction.Sum)]
    [InlineData(Reduction.Mean)]
    public void Reductions_sum_or_average_the_element_losses_and_scale_the_gradient(Reduction reduction)
    {
        var rng = new Random(11);
        int n = 5000;
        var x = Enumerable.Range(0, n).Select(_ => (rng.NextDouble() - 0.5) * 20).ToArray();
        var t = Enumerable.Range(0, n).Select(i => i % 3 == 0 ? rng.NextDouble() : i % 2).ToArray();
        var opts = new FocalOptions { Alpha = 0.25, Epsilon = -1 };
        var each = new double[n];
        var eachGrad = new double[n];
        Poly.SigmoidFocal(x, t, each, opts, eachGrad);

        var reduced = new double[1];
        var grad = new double[n];
        Poly.SigmoidFocal(x, t, reduced, new FocalOptions { Alpha = 0.25, Epsilon = -1, Reduction = reduction }, grad);
        double divisor = reduction == Reduction.Mean ? n : 1;
        double expected = each.Sum() / divisor;
        Assert.Equal(expected, reduced[0], Math.Abs(expected) * 1e-13);
        for (int i = 0; i < n; i++)
            Assert.Equal(eachGrad[i] / divisor, grad[i], Math.Abs(eachGrad[i] / divisor) * 5e-16);

        var reducedF = new float[1];
        Poly.SigmoidFocal(x.Select(v => (float)v).ToArray(), t.Select(v => (float)v).ToArray(), reducedF,
            new FocalOptions { Alpha = 0.25, Epsilon = -1, Reduction = reduction });
        Assert.Equal(expected, reducedF[0], Math.Abs(expected) * 1e-5);
    }

    [Fact]
    public void Empty_input_mean_is_nan_and_sum_is_zero()
    {
        var r = new double[1];
        Poly.SigmoidFocal(ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty, r, new FocalOptions { Reduction = Reduction.Mean });
        Assert.True(double.IsNaN(r[0]));
        Poly.SigmoidFocal(ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty, r, new FocalOptions { Reduction = Reduction.Sum });
        Assert.Equal(0.0, r[0]);
        Poly.SigmoidFocal(ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty, Span<double>.Empty, FocalOptions.Default);
    }

    [Fact]
    public void Results_are_bit_identical_for_any_thread_count()
    {
        var rng = new Random(3);
        int n = 300_001;
        var x = Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * 30)).ToArray();
        var t = Enumerable.Range(0, n).Select(i => i % 5 == 0 ? (float)rng.NextDouble() : i % 2).ToArray();
        foreach (var reduction in new[] { Reduction.None, Reduction.Mean })
        {
            int len = reduction == Reduction.None ? n : 1;
            float[] l1 = new float[len], g1 = new float[n], lAll = new float[len], gAll = new float[n];
            Poly.SigmoidFocal(x, t, l1, new FocalOptions { Reduction = reduction, MaxDegreeOfParallelism = 1 }, g1);
            Poly.SigmoidFocal(x, t, lAll, new FocalOptions { Reduction = reduction }, gAll);
            Assert.Equal(l1, lAll);
            Assert.Equal(g1, gAll);

            double[] xd = x.Select(v => (double)v).ToArray(), td = t.Select(v => (double)v).ToArray();
            double[] d1 = new double[len], dAll = new double[len];
            Poly.SigmoidFocal(xd, td, d1, new FocalOptions { Reduction = reduction, MaxDegreeOfParallelism = 1 });
            Poly.SigmoidFocal(xd, td, dAll, new FocalOptions { Reduction = reduction, MaxDegreeOfParallelism = 2 });
            Assert.Equal(d1, dAll);
        }
    }

    [Fact]
    public void Gradient_is_optional_and_does_not_change_the_losses()
    {
        double[] x = [-3, 0.5, 7];
        double[] t = [0, 1, 0.4];
        var a = new double[3];
        var b = new double[3];
        Poly.SigmoidFocal(x, t, a, FocalOptions.Default);
        Poly.SigmoidFocal(x, t, b, FocalOptions.Default, new double[3]);
        Assert.Equal(a, b);
    }
}
