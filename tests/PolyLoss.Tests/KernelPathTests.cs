using PolyLoss.Internal;

namespace PolyLoss.Tests;

/// <summary>
/// Every kernel path (scalar, 128-, 256-, 512-bit, whichever this machine has) on every row length from 1 to 256, so each
/// vector width and tail runs; the scalar path is the yardstick (it is itself checked against the 200-bit reference).
/// </summary>
public class KernelPathTests
{
    private static IEnumerable<int> Lengths() => Enumerable.Range(1, 70).Concat(Enumerable.Range(71, 186).Where(c => c % 5 == 0 || c % 8 <= 1)).Append(256);

    private static void Close(double expected, double actual, double relTol, string what)
    {
        if (double.IsNaN(expected)) { Assert.True(double.IsNaN(actual), what); return; }
        if (expected == actual) return; // also equal infinities
        double tol = relTol * Math.Max(Math.Abs(expected), 1e-300);
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: {actual:R} vs scalar {expected:R}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_path_agrees_with_the_scalar_kernel_for_every_length(bool dense)
    {
        var rng = new Random(dense ? 1 : 2);
        var options = new PolyLossOptions { Epsilon = -1, Weight = null };
        var optionsRich = new PolyLossOptions { Coefficients = [2, -0.5], LabelSmoothing = 0.1 };
        foreach (int c in Lengths())
        {
            const int rows = 11; // a group of 8 rows for the few-classes kernel, and a tail
            var z = new float[rows * c];
            for (int i = 0; i < z.Length; i++) z[i] = (float)((rng.NextDouble() * 2 - 1) * 20);
            z[0] = float.NegativeInfinity; // exercises -inf handling in the first vector or the tail
            var y = new float[rows * c];
            for (int r = 0; r < rows; r++)
            {
                double s = 0;
                for (int k = 1; k < c; k++) s += y[r * c + k] = (float)rng.NextDouble();
                for (int k = 1; k < c; k++) y[r * c + k] = (float)(y[r * c + k] / Math.Max(s, 1e-30));
            }
            int[] t = Enumerable.Range(0, rows).Select(_ => c == 1 ? 0 : 1 + rng.Next(c - 1)).ToArray();
            double[] zd = z.Select(v => (double)v).ToArray(), yd = y.Select(v => (double)v).ToArray();
            var weights = Enumerable.Range(0, c).Select(k => 0.5 + (k % 3)).ToArray();
            foreach (var o in new[] { options, optionsRich, new PolyLossOptions { Weight = weights } })
            {
                (float[] L, float[] G) RunF(KernelPath p)
                {
                    var l = new float[rows]; var g = new float[rows * c];
                    AccuracyTests.WithPath(p, () =>
                    {
                        if (dense) Poly.CrossEntropyWithGradient(z, y, l, g, c, o);
                        else Poly.CrossEntropyWithGradient(z, t, l, g, c, o);
                        return 0;
                    });
                    return (l, g);
                }
                (double[] L, double[] G) RunD(KernelPath p)
                {
                    var l = new double[rows]; var g = new double[rows * c];
                    AccuracyTests.WithPath(p, () =>
                    {
                        if (dense) Poly.CrossEntropyWithGradient(zd, yd, l, g, c, o);
                        else Poly.CrossEntropyWithGradient(zd, t, l, g, c, o);
                        return 0;
                    });
                    return (l, g);
                }
                var sf = RunF(KernelPath.Scalar);
                var sd = RunD(KernelPath.Scalar);
                foreach (KernelPath p in AccuracyTests.Paths().Skip(1))
                {
                    var vf = RunF(p);
                    var vd = RunD(p);
                    double gmaxF = sf.G.Where(float.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max();
                    double gmaxD = sd.G.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max();
                    for (int r = 0; r < rows; r++)
                    {
                        Close(sf.L[r], vf.L[r], 3e-7, $"{p} C={c} float loss row {r}");
                        Close(sd.L[r], vd.L[r], 5e-16, $"{p} C={c} double loss row {r}");
                    }
                    for (int i = 0; i < sf.G.Length; i++)
                    {
                        Assert.Equal(float.IsNaN(sf.G[i]), float.IsNaN(vf.G[i]));
                        Assert.Equal(double.IsNaN(sd.G[i]), double.IsNaN(vd.G[i]));
                        if (float.IsNaN(sf.G[i])) continue;
                        Assert.True(Math.Abs(sf.G[i] - vf.G[i]) <= 4e-7 * gmaxF, $"{p} C={c} float gradient {i}: {vf.G[i]} vs {sf.G[i]}");
                        Assert.True(Math.Abs(sd.G[i] - vd.G[i]) <= 1e-15 * gmaxD, $"{p} C={c} double gradient {i}: {vd.G[i]} vs {sd.G[i]}");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(100)]
    [InlineData(2100)]
    public void Wide_and_special_rows_agree_with_the_scalar_kernel_on_every_path(int c)
    {
        // Rows the vector kernels treat specially: a finite spread below and above the table exponential's unclamped
        // range (1e13), a logit near -float.MaxValue, -inf with a zero label (the float64 dense sums' guarded redo),
        // labels whose products overflow, NaN, ties at the maximum, and ordinary rows around them.
        const int rows = 9;
        var rng = new Random(c);
        var z = new double[rows * c];
        var y = new double[rows * c];
        for (int i = 0; i < z.Length; i++) { z[i] = rng.NextDouble() * 10 - 5; y[i] = rng.NextDouble() / c; }
        for (int k = 0; k < c; k++)
        {
            z[0 * c + k] = k % 3 == 0 ? 4e11 : k % 3 == 1 ? -4e11 : rng.NextDouble();  // spread 8e11: unclamped
            z[1 * c + k] = k % 2 == 0 ? 6e12 : -6e12 - k;                              // spread 1.2e13: clamped
        }
        z[2 * c + c / 2] = -3e38;
        z[3 * c + c / 3] = double.NegativeInfinity; y[3 * c + c / 3] = 0;
        for (int k = 0; k < c; k++) { y[4 * c + k] = 1e300; z[4 * c + k] = k == 0 ? 1e10 : -k; }
        z[5 * c + c / 2] = double.NaN;
        z[6 * c + 0] = z[6 * c + c - 1] = z[6 * c + c / 2] = 7;                         // three tied maxima
        int[] t = Enumerable.Range(0, rows).Select(r => (r * 7 + 1) % c).ToArray();
        float[] zf = z.Select(v => (float)v).ToArray(), yf = y.Select(v => (float)v).ToArray();
        double[] zr = zf.Select(v => (double)v).ToArray(); // float64 rows with the float values, so both see the same cases
        foreach (bool dense in new[] { false, true })
        {
            (float[] L, float[] G, double[] Ld, double[] Gd) Run(KernelPath p)
            {
                var l = new float[rows]; var g = new float[rows * c]; var ld = new double[rows]; var gd = new double[rows * c];
                AccuracyTests.WithPath(p, () =>
                {
                    if (dense) { Poly.CrossEntropyWithGradient(zf, yf, l, g, c); Poly.CrossEntropyWithGradient(zr, y, ld, gd, c); }
                    else { Poly.CrossEntropyWithGradient(zf, t, l, g, c); Poly.CrossEntropyWithGradient(zr, t, ld, gd, c); }
                    return 0;
                });
                return (l, g, ld, gd);
            }
            var s = Run(KernelPath.Scalar);
            foreach (KernelPath p in AccuracyTests.Paths().Skip(1))
            {
                var v = Run(p);
                for (int r = 0; r < rows; r++)
                {
                    Close(s.L[r], v.L[r], 3e-7, $"{p} dense={dense} C={c} float loss row {r}");
                    Close(s.Ld[r], v.Ld[r], 5e-16, $"{p} dense={dense} C={c} double loss row {r}");
                    double gmaxF = 0, gmaxD = 0;
                    for (int k = r * c; k < (r + 1) * c; k++)
                    {
                        if (float.IsFinite(s.G[k])) gmaxF = Math.Max(gmaxF, Math.Abs(s.G[k]));
                        if (double.IsFinite(s.Gd[k])) gmaxD = Math.Max(gmaxD, Math.Abs(s.Gd[k]));
                    }
                    for (int k = r * c; k < (r + 1) * c; k++)
                    {
                        Assert.True(s.G[k] == v.G[k] || Math.Abs(s.G[k] - v.G[k]) <= 4e-7 * gmaxF || float.IsNaN(s.G[k]) && float.IsNaN(v.G[k]),
                            $"{p} dense={dense} C={c} row {r} float gradient {k - r * c}: {v.G[k]} vs scalar {s.G[k]}");
                        Assert.True(s.Gd[k] == v.Gd[k] || Math.Abs(s.Gd[k] - v.Gd[k]) <= 1e-15 * gmaxD || double.IsNaN(s.Gd[k]) && double.IsNaN(v.Gd[k]),
                            $"{p} dense={dense} C={c} row {r} double gradient {k - r * c}: {v.Gd[k]} vs scalar {s.Gd[k]}");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(17)]
    [InlineData(40)]
    [InlineData(300)]
    public void Grouped_float32_rows_agree_with_the_scalar_kernel_with_every_option(int c)
    {
        // Float32 Poly-1 rows with more than 16 classes finish in groups of 8 lanes: ignored rows, class weights, per-row
        // upstream gradients, reductions and a partial last group must give what the scalar kernel gives.
        const int rows = 21;
        var rng = new Random(c);
        var z = new float[rows * c];
        for (int i = 0; i < z.Length; i++) z[i] = (float)((rng.NextDouble() * 2 - 1) * 12);
        int[] t = Enumerable.Range(0, rows).Select(r => r % 5 == 3 ? 7 - 107 : rng.Next(c)).ToArray(); // -100: ignored
        var weights = Enumerable.Range(0, c).Select(k => 0.25 + (k % 4)).ToArray();
        float[] upstream = Enumerable.Range(0, rows).Select(_ => (float)(rng.NextDouble() * 3 - 1)).ToArray();
        var configs = new (PolyLossOptions O, bool PerRowUpstream)[]
        {
            (new PolyLossOptions { Epsilon = 2, Weight = weights }, true),
            (new PolyLossOptions { Epsilon = -1, IgnoreIndex = -100 }, true),
            (new PolyLossOptions { Epsilon = 0.5, Weight = weights, Reduction = Reduction.Mean }, false),
            (new PolyLossOptions { Epsilon = 1, Reduction = Reduction.Sum }, false),
        };
        foreach (var (o, perRow) in configs)
        {
            bool reduced = o.Reduction != Reduction.None;
            int[] targets = o.IgnoreIndex == -100 ? t : t.Select(v => v < 0 ? 1 : v).ToArray();
            (float[] L, float[] G) Run(KernelPath p)
            {
                var l = new float[reduced ? 1 : rows]; var g = new float[rows * c];
                ReadOnlySpan<float> up = perRow ? upstream : reduced ? [0.7f] : default;
                float[] upArr = up.ToArray();
                AccuracyTests.WithPath(p, () => { Poly.CrossEntropyWithGradient(z, targets, l, g, c, o, upArr); return 0; });
                return (l, g);
            }
            var s = Run(KernelPath.Scalar);
            foreach (KernelPath p in AccuracyTests.Paths().Skip(1))
            {
                var v = Run(p);
                for (int r = 0; r < s.L.Length; r++) Close(s.L[r], v.L[r], 3e-7, $"{p} C={c} {o.Reduction} loss {r}");
                double gmax = s.G.Select(x => Math.Abs((double)x)).Max();
                for (int i = 0; i < s.G.Length; i++)
                    Assert.True(Math.Abs(s.G[i] - v.G[i]) <= 4e-7 * gmax, $"{p} C={c} {o.Reduction} gradient {i}: {v.G[i]} vs scalar {s.G[i]}");
            }
        }
    }

    [Fact]
    public void Span_entry_points_allocate_nothing_at_steady_state()
    {
        const int rows = 512, c = 300;
        var rng = new Random(4);
        var z = new float[rows * c];
        for (int i = 0; i < z.Length; i++) z[i] = (float)rng.NextDouble();
        var y = new float[rows * c];
        var t = new int[rows];
        var l = new float[rows];
        var g = new float[rows * c];
        var mean = new float[1];
        var opts = new PolyLossOptions { Reduction = Reduction.Mean, Weight = Enumerable.Repeat(1.0, c).ToArray() };
        Action[] calls =
        [
            () => Poly.CrossEntropy(z, t, l, c),
            () => Poly.CrossEntropy(z, y, l, c, -1f),
            () => Poly.CrossEntropyWithGradient(z, t, l, g, c, 0.5f),
            () => Poly.CrossEntropyWithGradient(z, y, l, g, c),
            () => Poly.CrossEntropyWithGradient(z, t, mean, g, c, opts),
        ];
        for (int k = 0; k < calls.Length; k++)
        {
            for (int i = 0; i < 60; i++) calls[k](); // past tiered compilation's call counting
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++) calls[k]();
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before == 0, $"call {k} allocates");
        }
    }
}
