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
