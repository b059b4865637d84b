using System.Numerics.Tensors;

namespace PolyLoss.Tests.Tensors;

/// <summary>Test data and independent helpers: permutation by plain index arithmetic, the span API on contiguous rows,
/// and a straightforward double-precision reference.</summary>
internal static class TensorTestData
{
    public static float[] Logits(int seed, int count, double scale = 3)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    /// <summary>Rows of soft labels (each row non-negative, summing to about 1).</summary>
    public static float[] SoftLabels(int seed, int rows, int classes)
    {
        var rng = new Random(seed);
        var y = new float[rows * classes];
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int k = 0; k < classes; k++) sum += y[r * classes + k] = (float)rng.NextDouble();
            for (int k = 0; k < classes; k++) y[r * classes + k] = (float)(y[r * classes + k] / sum);
        }
        return y;
    }

    public static int[] Targets(int seed, int rows, int classes)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, rows).Select(_ => rng.Next(classes)).ToArray();
    }

    public static double[] ToDouble(float[] a) => a.Select(v => (double)v).ToArray();

    public static Half[] ToHalf(float[] a) => a.Select(v => (Half)v).ToArray();

    /// <summary>Rounds through Half so float, double and Half see the same values.</summary>
    public static float[] HalfExact(float[] a) => a.Select(v => (float)(Half)v).ToArray();

    /// <summary>Row-major strides of a shape.</summary>
    public static nint[] Strides(params nint[] shape)
    {
        var s = new nint[shape.Length];
        nint stride = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = stride; stride *= shape[i]; }
        return s;
    }

    /// <summary>
    /// out[i_order[0], i_order[1], ...] = data[i_0, i_1, ...]: the contiguous array of <paramref name="data"/> (row-major,
    /// shape <paramref name="shape"/>) with its axes in the order <paramref name="order"/> (as numpy.transpose).
    /// </summary>
    public static T[] Permute<T>(T[] data, nint[] shape, int[] order)
    {
        int n = shape.Length;
        nint[] srcStrides = Strides(shape);
        nint[] newShape = order.Select(a => shape[a]).ToArray();
        var result = new T[data.Length];
        var idx = new long[n];
        for (long flat = 0; flat < data.Length; flat++)
        {
            long rem = flat;
            for (int d = n - 1; d >= 0; d--) { idx[d] = rem % newShape[d]; rem /= newShape[d]; }
            long src = 0;
            for (int d = 0; d < n; d++) src += idx[d] * srcStrides[order[d]];
            result[flat] = data[src];
        }
        return result;
    }

    /// <summary>The elements of a tensor span in row-major order of its own shape, read with its indexer.</summary>
    public static T[] Flatten<T>(in ReadOnlyTensorSpan<T> span)
    {
        var result = new T[span.FlattenedLength];
        int n = span.Rank;
        var idx = new nint[n];
        for (long flat = 0; flat < result.Length; flat++)
        {
            long rem = flat;
            for (int d = n - 1; d >= 0; d--) { idx[d] = (nint)(rem % span.Lengths[d]); rem /= span.Lengths[d]; }
            result[flat] = span[idx];
        }
        return result;
    }

    public static T[] Flatten<T>(Tensor<T> t) => Flatten(t.AsReadOnlyTensorSpan());

    // ---- Independent double-precision reference (straightforward formulas, no shared code with the library).

    /// <summary>Poly-1 loss of one row over the included classes: -sum y log p + eps sum y (1 - p).</summary>
    public static double RefLoss(ReadOnlySpan<double> z, ReadOnlySpan<double> y, double eps, ReadOnlySpan<bool> keep = default)
    {
        double max = double.NegativeInfinity;
        for (int k = 0; k < z.Length; k++) if (keep.IsEmpty || keep[k]) max = Math.Max(max, z[k]);
        if (double.IsNegativeInfinity(max)) return 0; // nothing included
        double sum = 0;
        for (int k = 0; k < z.Length; k++) if (keep.IsEmpty || keep[k]) sum += Math.Exp(z[k] - max);
        double lse = max + Math.Log(sum);
        double ce = 0, poly = 0;
        for (int k = 0; k < z.Length; k++)
        {
            if (!(keep.IsEmpty || keep[k])) continue;
            double logp = z[k] - lse;
            ce -= y[k] * logp;
            poly += y[k] * (1 - Math.Exp(logp));
        }
        return ce + eps * poly;
    }

    /// <summary>Gradient of the Poly-1 row loss w.r.t. the logits: g_j = S p_j - y_j - eps p_j (y_j - Pt).</summary>
    public static double[] RefGradient(ReadOnlySpan<double> z, ReadOnlySpan<double> y, double eps)
    {
        double max = double.NegativeInfinity;
        foreach (double v in z) max = Math.Max(max, v);
        double sum = 0;
        foreach (double v in z) sum += Math.Exp(v - max);
        var p = new double[z.Length];
        double s = 0, pt = 0;
        for (int k = 0; k < z.Length; k++) { p[k] = Math.Exp(z[k] - max) / sum; s += y[k]; pt += y[k] * p[k]; }
        var g = new double[z.Length];
        for (int j = 0; j < z.Length; j++) g[j] = s * p[j] - y[j] - eps * p[j] * (y[j] - pt);
        return g;
    }

    public static void Close(double expected, double actual, double relTol, double absTol = 0, string? what = null)
    {
        double tol = Math.Max(absTol, relTol * Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tol || (double.IsNaN(expected) && double.IsNaN(actual)),
            $"{what}: expected {expected:R}, actual {actual:R} (tolerance {tol:R})");
    }

    public static void AllClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double relTol, double absTol = 0)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Close(expected[i], actual[i], relTol, absTol, $"element {i}");
    }

    public static double[] D(float[] a) => ToDouble(a);

    public static double[] D(Half[] a) => a.Select(v => (double)v).ToArray();
}
