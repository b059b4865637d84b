using PolyLoss.Internal;

namespace PolyLoss.Tests.Focal;

/// <summary>Softmax focal loss: reduction to Poly-1 / plain cross entropy, special values, reductions, determinism.</summary>
public class SoftmaxFocalTests
{
    private static (double[] Z, int[] T) RandomRows(int rows, int c, double scale, int seed)
    {
        var rng = new Random(seed);
        var z = Enumerable.Range(0, rows * c).Select(_ => (double)(float)((rng.NextDouble() - 0.5) * 2 * scale)).ToArray();
        var t = Enumerable.Range(0, rows).Select(_ => rng.Next(c)).ToArray();
        return (z, t);
    }

    private static IEnumerable<(double[] Z, int[] T, int C)> CeCases()
    {
        foreach (double scale in new[] { 1.0, 30, 1e4 })
            foreach (int c in new[] { 1, 2, 7, 20 })
            {
                var (z, t) = RandomRows(40, c, scale, (int)scale + c);
                yield return (z, t, c);
            }
        // confident rows, ties, a +inf logit, a -inf target logit
        yield return ([40, 0, -3, 1, 1, 1, 0, 0, 0, double.PositiveInfinity, 2, 3, double.NegativeInfinity, 5, 6], [0, 1, 2, 0, 0], 3);
    }

    public static TheoryData<string, double> PathsAndEps()
    {
        var d = new TheoryData<string, double>();
        foreach (var p in AccuracyTests.Paths())
            foreach (double eps in new[] { 2.0, 1.0, 0.0, -1.0, -0.5, 5.45 })
                d.Add(p.ToString(), eps);
        return d;
    }

    [Theory, MemberData(nameof(PathsAndEps))]
    public void Gamma0_without_alpha_is_poly1_cross_entropy_bit_for_bit(string path, double eps)
        => AccuracyTests.WithPath(Enum.Parse<KernelPath>(path), () => { Gamma0IsCrossEntropy(eps); return 0; });

    private static void Gamma0IsCrossEntropy(double eps)
    {
        var focal = new FocalOptions { Gamma = 0, Epsilon = eps };
        var poly = new PolyLossOptions { Epsilon = eps };
        foreach (var (z, t, c) in CeCases())
        {
            int rows = t.Length;
            double[] lf = new double[rows], gf = new double[z.Length], lc = new double[rows], gc = new double[z.Length];
            Poly.SoftmaxFocal(z, t, lf, c, focal, gf);
            Poly.CrossEntropyWithGradient(z, t, lc, gc, c, poly);
            bool vector = Engine.Resolve(Engine.ForcedPath) != KernelPath.Scalar;
            if (vector)
            {
                // Float64 cross-entropy rows run in one pass relative to the target's logit on the vector paths
                // (VRows.DoubleTargetSum), the focal rows relative to the maximum: each within its bounds of the exact
                // values (2 ulp losses, 4 ulp gradients), so within their sum of each other.
                for (int i = 0; i < rows; i++) AssertWithinUlps(lc[i], lf[i], 4);
                for (int i = 0; i < z.Length; i++) AssertWithinUlps(gc[i], gf[i], 8);
            }
            else
            {
                Assert.Equal(lc, lf);
                Assert.Equal(gc, gf);
            }

            var zs = z.Select(v => (float)v).ToArray();
            float[] lff = new float[rows], gff = new float[z.Length], lcf = new float[rows], gcf = new float[z.Length];
            Poly.SoftmaxFocal(zs, t, lff, c, focal, gff);
            Poly.CrossEntropyWithGradient(zs, t, lcf, gcf, c, poly);
            bool onePass = Engine.Resolve(Engine.ForcedPath) switch
            {
                KernelPath.V512 => VRows.OnePassFloatTargets<V512>(c),
                KernelPath.V256 => VRows.OnePassFloatTargets<V256>(c),
                KernelPath.V128 => VRows.OnePassFloatTargets<V128>(c),
                _ => false,
            };
            if ((c <= SmallClassRows.MaxClasses && Engine.ForcedPath != KernelPath.Scalar) || (c > SmallClassRows.MaxClasses && onePass))
            {
                // The core runs float32 rows with few classes in a row-lane kernel of its own, and on the vector paths
                // longer rows in one pass relative to the target's logit (VRows.TargetStats): same formulas, not the same bits.
                for (int i = 0; i < rows; i++) AssertWithinUlps(lcf[i], lff[i], 1);
                for (int i = 0; i < z.Length; i++) AssertWithinUlps(gcf[i], gff[i], 2);
            }
            else
            {
                Assert.Equal(lcf, lff);
                Assert.Equal(gcf, gff);
            }

            // Sum reduction too.
            double[] sf = new double[1], sc = new double[1];
            Poly.SoftmaxFocal(z, t, sf, c, new FocalOptions { Gamma = 0, Epsilon = eps, Reduction = Reduction.Sum });
            Poly.CrossEntropy(z, t, sc, c, new PolyLossOptions { Epsilon = eps, Reduction = Reduction.Sum });
            if (vector) AssertWithinUlps(sc[0], sf[0], 4); // non-negative row losses: their errors add up within the sum's ulps
            else Assert.Equal(sc[0], sf[0]);
        }
    }

    private static void AssertWithinUlps(double expected, double actual, int ulps)
    {
        if (expected.Equals(actual)) return;
        double ulp = Math.BitIncrement(Math.Abs(expected)) - Math.Abs(expected);
        Assert.True(Math.Abs(expected - actual) <= ulps * ulp, $"expected {expected:R}, got {actual:R}");
    }

    private static void AssertWithinUlps(float expected, float actual, int ulps)
    {
        if (expected.Equals(actual)) return;
        float ulp = MathF.BitIncrement(MathF.Abs(expected)) - MathF.Abs(expected);
        Assert.True(Math.Abs((double)expected - actual) <= ulps * (double)ulp, $"expected {expected:R}, got {actual:R}");
    }

    [Fact]
    public void Gamma0_eps0_is_plain_cross_entropy()
    {
        var (z, t) = RandomRows(50, 6, 8, 5);
        var l = new double[50];
        Poly.SoftmaxFocal(z, t, l, 6, new FocalOptions { Gamma = 0, Epsilon = 0 });
        for (int r = 0; r < 50; r++)
        {
            var row = z.AsSpan(r * 6, 6).ToArray();
            double m = row.Max();
            double lse = m + Math.Log(row.Sum(v => Math.Exp(v - m)));
            Assert.Equal(lse - row[t[r]], l[r], 1e-13);
        }
    }

    [Fact]
    public void Class_alpha_scales_only_the_cross_entropy_term()
    {
        double[] z = [2, 1, 0.1];
        double s = Math.Exp(2) + Math.Exp(1) + Math.Exp(0.1);
        double p1 = Math.Exp(1) / s, q = 1 - p1;
        var l = new double[1];
        Poly.SoftmaxFocal(z, [1], l, 3, new FocalOptions { ClassAlpha = [0.9, 0.3, 0.5], Epsilon = 2 });
        Assert.Equal(0.3 * q * q * -Math.Log(p1) + 2 * q * q * q, l[0], 1e-14);
    }

    [Fact]
    public void Known_value_with_defaults()
    {
        // [2, 1, 0.1], target 0: p0 = e^2 / (e^2 + e + e^0.1), FL = (1 - p0)^2 (-log p0) + (1 - p0)^3.
        double s = Math.Exp(2) + Math.Exp(1) + Math.Exp(0.1);
        double p0 = Math.Exp(2) / s, q = 1 - p0;
        var l = new float[1];
        Poly.SoftmaxFocal([2f, 1f, 0.1f], [0], l, 3, FocalOptions.Default);
        Assert.Equal(q * q * -Math.Log(p0) + q * q * q, l[0], 1e-7);
    }

    [Fact]
    public void Gradient_rows_sum_to_zero_and_target_entry_is_negative_for_nonnegative_eps()
    {
        var (z, t) = RandomRows(200, 5, 6, 9);
        var g = new double[z.Length];
        Poly.SoftmaxFocal(z, t, new double[200], 5, new FocalOptions { Gamma = 1.5, Epsilon = 0.5 }, g);
        for (int r = 0; r < 200; r++)
        {
            double sum = 0, mag = 0;
            for (int j = 0; j < 5; j++) { sum += g[r * 5 + j]; mag += Math.Abs(g[r * 5 + j]); }
            Assert.True(Math.Abs(sum) <= mag * 1e-15 + 1e-300, $"row {r}: sum {sum}");
            Assert.True(g[r * 5 + t[r]] <= 0);
        }
    }

    [Fact]
    public void Special_values_stay_in_their_row()
    {
        double n = double.NaN, pi = double.PositiveInfinity, ni = double.NegativeInfinity;
        double[] z =
        [
            1, 2, 3,      // ordinary
            1, n, 3,      // NaN
            pi, 0, -1,    // single +inf, target on it: loss 0
            pi, 0, -1,    // single +inf, target elsewhere: loss +inf
            pi, pi, 0,    // two +inf: NaN
            ni, ni, ni,   // all -inf: NaN
            0, ni, 1,     // -inf target logit: loss +inf, gradient finite
            ni, 2, 1,     // -inf elsewhere: that class has p = 0
        ];
        int[] t = [0, 0, 0, 1, 0, 0, 1, 1];
        var l = new double[8];
        var g = new double[24];
        Poly.SoftmaxFocal(z, t, l, 3, FocalOptions.Default, g);

        var single = new double[1];
        var singleG = new double[3];
        Poly.SoftmaxFocal([1.0, 2, 3], [0], single, 3, FocalOptions.Default, singleG);
        Assert.Equal(single[0], l[0]);
        Assert.Equal(singleG, g[0..3]);

        Assert.True(double.IsNaN(l[1]) && g[3..6].All(double.IsNaN));
        Assert.Equal(0.0, l[2]);
        Assert.All(g[6..9], v => Assert.Equal(0.0, v));
        Assert.Equal(double.PositiveInfinity, l[3]);
        Assert.Equal([1.0, -1.0, 0.0], g[9..12]); // q = 1, pt = 0: M = alpha = 1
        Assert.True(double.IsNaN(l[4]) && g[12..15].All(double.IsNaN));
        Assert.True(double.IsNaN(l[5]) && g[15..18].All(double.IsNaN));
        Assert.Equal(double.PositiveInfinity, l[6]);
        double p0 = 1 / (1 + Math.E), p2 = Math.E / (1 + Math.E);
        Assert.Equal(p0, g[18], 1e-15);
        Assert.Equal(-1.0, g[19]);
        Assert.Equal(p2, g[20], 1e-15);
        Assert.True(double.IsFinite(l[7]) && g[21..24].All(double.IsFinite));
        Assert.Equal(0.0, g[21]);
        var two = new double[1];
        Poly.SoftmaxFocal([2.0, 1], [0], two, 2, FocalOptions.Default);
        Assert.Equal(two[0], l[7], 1e-15);
    }

    [Fact]
    public void Single_class_rows_have_zero_loss_and_gradient_for_any_gamma()
    {
        foreach (double gamma in new[] { 0.0, 0.5, 2 })
        {
            var l = new double[2];
            var g = new double[2];
            Poly.SoftmaxFocal([3.5, -1e4], [0, 0], l, 1, new FocalOptions { Gamma = gamma, Epsilon = -1 }, g);
            Assert.Equal([0.0, 0.0], l);
            Assert.All(g, v => Assert.Equal(0.0, v));
        }
    }

    [Theory]
    [InlineData(Reduction.Sum)]
    [InlineData(Reduction.Mean)]
    public void Reductions_sum_or_average_the_row_losses_and_scale_the_gradient(Reduction reduction)
    {
        var (z, t) = RandomRows(1000, 4, 5, 21);
        var ca = new[] { 0.25, 0.5, 1.0, 0.75 };
        var each = new double[1000];
        var eachGrad = new double[z.Length];
        Poly.SoftmaxFocal(z, t, each, 4, new FocalOptions { ClassAlpha = ca, Epsilon = -1 }, eachGrad);
        var reduced = new double[1];
        var grad = new double[z.Length];
        Poly.SoftmaxFocal(z, t, reduced, 4, new FocalOptions { ClassAlpha = ca, Epsilon = -1, Reduction = reduction }, grad);
        double divisor = reduction == Reduction.Mean ? 1000 : 1;
        double expected = each.Sum() / divisor;
        Assert.Equal(expected, reduced[0], Math.Abs(expected) * 1e-13);
        for (int i = 0; i < z.Length; i++)
            Assert.Equal(eachGrad[i] / divisor, grad[i], Math.Abs(eachGrad[i] / divisor) * 5e-16);

        var empty = new double[1];
        Poly.SoftmaxFocal(ReadOnlySpan<double>.Empty, ReadOnlySpan<int>.Empty, empty, 4, new FocalOptions { Reduction = reduction });
        Assert.Equal(reduction == Reduction.Mean ? double.NaN : 0.0, empty[0]);
    }

    [Fact]
    public void Results_are_bit_identical_for_any_thread_count()
    {
        var (z, t) = RandomRows(20_000, 10, 12, 4);
        var zf = z.Select(v => (float)v).ToArray();
        foreach (var reduction in new[] { Reduction.None, Reduction.Sum })
        {
            int len = reduction == Reduction.None ? t.Length : 1;
            float[] l1 = new float[len], g1 = new float[z.Length], l2 = new float[len], g2 = new float[z.Length];
            Poly.SoftmaxFocal(zf, t, l1, 10, new FocalOptions { Gamma = 0.5, Reduction = reduction, MaxDegreeOfParallelism = 1 }, g1);
            Poly.SoftmaxFocal(zf, t, l2, 10, new FocalOptions { Gamma = 0.5, Reduction = reduction }, g2);
            Assert.Equal(l1, l2);
            Assert.Equal(g1, g2);
            double[] d1 = new double[len], d2 = new double[len];
            Poly.SoftmaxFocal(z, t, d1, 10, new FocalOptions { Reduction = reduction, MaxDegreeOfParallelism = 1 });
            Poly.SoftmaxFocal(z, t, d2, 10, new FocalOptions { Reduction = reduction });
            Assert.Equal(d1, d2);
        }
    }
}
