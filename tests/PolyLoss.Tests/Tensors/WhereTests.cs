using System.Numerics.Tensors;
using static PolyLoss.Tests.Tensors.TensorTestData;

namespace PolyLoss.Tests.Tensors;

public class WhereTests
{
    private const int N = 8, C = 7;

    /// <summary>A random mask keeping at least one class per row; row 0 keeps everything.</summary>
    private static bool[] Mask(int seed)
    {
        var rng = new Random(seed);
        var m = new bool[N * C];
        for (int r = 0; r < N; r++)
        {
            for (int k = 0; k < C; k++) m[r * C + k] = r == 0 || rng.NextDouble() < 0.6;
            m[r * C + rng.Next(C)] = true;
        }
        return m;
    }

    private static T[] Kept<T>(T[] row, bool[] keep) => row.Where((_, k) => keep[k]).ToArray();

    [Fact]
    public void Where_EqualsSlicingOutTheMaskedClasses()
    {
        float[] z = Logits(30, N * C);
        float[] y = SoftLabels(31, N, C);
        bool[] m = Mask(32);
        var (loss, grad, labelsGrad) = PolyTensor.CrossEntropyWithGradient(Tensor.Create(z, [N, C]), Tensor.Create(y, [N, C]),
            epsilon: 2, where: Tensor.Create(m, [N, C]), computeLabelsGradient: true);
        float[] l = Flatten(loss), g = Flatten(grad), gy = Flatten(labelsGrad!);

        for (int r = 0; r < N; r++)
        {
            bool[] keep = m[(r * C)..((r + 1) * C)];
            float[] zk = Kept(z[(r * C)..((r + 1) * C)], keep), yk = Kept(y[(r * C)..((r + 1) * C)], keep);
            int c = zk.Length;
            var el = new float[1];
            var eg = new float[c];
            var egy = new float[c];
            Poly.CrossEntropyWithGradient(zk, yk, el, eg, c, PolyLossOptions.Default, default, egy);
            Close(el[0], l[r], 1e-6, 1e-7, $"loss row {r}");
            for (int k = 0, i = 0; k < C; k++)
            {
                if (!keep[k])
                {
                    Assert.Equal(0f, g[r * C + k]);
                    Assert.Equal(0f, gy[r * C + k]);
                    continue;
                }
                Close(eg[i], g[r * C + k], 1e-5, 1e-7, $"gradient [{r}, {k}]");
                Close(egy[i], gy[r * C + k], 1e-5, 1e-6, $"labels gradient [{r}, {k}]");
                i++;
            }
        }
        // Row 0 is fully kept: bit-identical to the unmasked computation.
        var full = new float[N];
        Poly.CrossEntropy(z, y, full, C);
        Assert.Equal(full[0], l[0]);
    }

    [Fact]
    public void Where_InDouble_MatchesAStraightforwardReferenceOverTheKeptClasses()
    {
        double[] z = ToDouble(Logits(33, N * C, scale: 20));
        double[] y = ToDouble(SoftLabels(34, N, C));
        bool[] m = Mask(35);
        double[] l = Flatten(PolyTensor.CrossEntropy(Tensor.Create(z, [N, C]), Tensor.Create(y, [N, C]), epsilon: -1, where: Tensor.Create(m, [N, C])));
        for (int r = 0; r < N; r++)
            Close(RefLoss(z.AsSpan(r * C, C), y.AsSpan(r * C, C), -1, m.AsSpan(r * C, C)), l[r], 1e-12, 1e-14, $"row {r}");
    }

    [Fact]
    public void Where_WithClassWeightsAndPolyN_EqualsSlicingTheRowsAndTheWeights()
    {
        double[] z = ToDouble(Logits(49, N * C, scale: 6));
        double[] y = ToDouble(SoftLabels(50, N, C));
        bool[] m = Mask(51);
        double[] weight = [0.5, 1, 2, 1.5, 0.25, 1, 3];
        double[] coeffs = [1.5, -0.5, 0.25];
        var options = new PolyLossOptions { Weight = weight, Coefficients = coeffs };
        var (loss, grad) = PolyTensor.CrossEntropyWithGradient(Tensor.Create(z, [N, C]), Tensor.Create(y, [N, C]), options, where: Tensor.Create(m, [N, C]));
        double[] l = Flatten(loss), g = Flatten(grad);
        for (int r = 0; r < N; r++)
        {
            bool[] keep = m[(r * C)..((r + 1) * C)];
            double[] zk = Kept(z[(r * C)..((r + 1) * C)], keep), yk = Kept(y[(r * C)..((r + 1) * C)], keep);
            var el = new double[1];
            var eg = new double[zk.Length];
            Poly.CrossEntropyWithGradient(zk, yk, el, eg, zk.Length, new PolyLossOptions { Weight = Kept(weight, keep), Coefficients = coeffs });
            Close(el[0], l[r], 1e-14, 1e-15, $"loss row {r}");
            for (int k = 0, i = 0; k < C; k++)
                if (keep[k]) Close(eg[i++], g[r * C + k], 1e-13, 1e-15, $"gradient [{r}, {k}]");
                else Assert.Equal(0.0, g[r * C + k]);
        }
    }

    [Fact]
    public void Where_OnWideRows_EqualsSlicing_ForDenseAndIntegerTargets_InFloatAndDouble()
    {
        const int rows = 12, c = 67;   // full SIMD vectors plus a tail
        float[] z = Logits(52, rows * c, scale: 10);
        float[] y = SoftLabels(53, rows, c);
        int[] t = Targets(54, rows, c);
        var rng = new Random(55);
        bool[] m = Enumerable.Range(0, rows * c).Select(_ => rng.NextDouble() < 0.7).ToArray();
        for (int r = 0; r < rows; r++) m[r * c + t[r]] = true;
        var where = Tensor.Create(m, [rows, c]);
        float[] lf = Flatten(PolyTensor.CrossEntropy(Tensor.Create(z, [rows, c]), Tensor.Create(y, [rows, c]), where: where));
        double[] ld = Flatten(PolyTensor.CrossEntropy(Tensor.Create(ToDouble(z), [rows, c]), Tensor.Create(ToDouble(y), [rows, c]), where: where));
        var (lt, gt) = PolyTensor.CrossEntropyWithGradient(Tensor.Create(z, [rows, c]), Tensor.Create(t, [rows]), where: where);
        float[] lti = Flatten(lt), gti = Flatten(gt);
        for (int r = 0; r < rows; r++)
        {
            bool[] keep = m[(r * c)..((r + 1) * c)];
            float[] zk = Kept(z[(r * c)..((r + 1) * c)], keep), yk = Kept(y[(r * c)..((r + 1) * c)], keep);
            int n = zk.Length, tk = keep.Take(t[r]).Count(b => b);
            var ef = new float[1];
            var ed = new double[1];
            var et = new float[1];
            var eg = new float[n];
            Poly.CrossEntropy(zk, yk, ef, n);
            Poly.CrossEntropy(ToDouble(zk), ToDouble(yk), ed, n);
            Poly.CrossEntropyWithGradient(zk, [tk], et, eg, n);
            Close(ef[0], lf[r], 1e-6, 1e-7, $"float dense row {r}");
            Close(ed[0], ld[r], 1e-14, 1e-15, $"double dense row {r}");
            Close(et[0], lti[r], 1e-6, 1e-7, $"targets row {r}");
            for (int k = 0, i = 0; k < c; k++)
                if (keep[k]) Close(eg[i++], gti[r * c + k], 1e-5, 1e-8, $"targets gradient [{r}, {k}]");
                else Assert.Equal(0f, gti[r * c + k]);
        }
    }

    [Fact]
    public void MaskedOutValues_TakeNoPart_EvenWhenNaNOrInfinite()
    {
        float[] z = Logits(36, N * C);
        float[] y = SoftLabels(37, N, C);
        bool[] m = Mask(38);
        float[] zBad = (float[])z.Clone(), yBad = (float[])y.Clone();
        for (int i = 0; i < m.Length; i++)
            if (!m[i]) { zBad[i] = i % 2 == 0 ? float.NaN : float.PositiveInfinity; yBad[i] = float.NaN; }
        var where = Tensor.Create(m, [N, C]);
        var a = PolyTensor.CrossEntropyWithGradient(Tensor.Create(z, [N, C]), Tensor.Create(y, [N, C]), where: where, computeLabelsGradient: true);
        var b = PolyTensor.CrossEntropyWithGradient(Tensor.Create(zBad, [N, C]), Tensor.Create(yBad, [N, C]), where: where, computeLabelsGradient: true);
        Assert.Equal(Flatten(a.Loss), Flatten(b.Loss));
        Assert.Equal(Flatten(a.LogitsGradient), Flatten(b.LogitsGradient));
        Assert.Equal(Flatten(a.LabelsGradient!), Flatten(b.LabelsGradient!));
        Assert.All(Flatten(b.Loss), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void FullyMaskedRow_GivesZeroLossAndZeroGradient_AndLeavesOtherRowsExact()
    {
        float[] z = Logits(39, N * C);
        float[] y = SoftLabels(40, N, C);
        var m = Enumerable.Repeat(true, N * C).ToArray();
        for (int k = 0; k < C; k++) { m[3 * C + k] = false; z[3 * C + k] = float.NaN; }
        var (loss, grad, labelsGrad) = PolyTensor.CrossEntropyWithGradient(Tensor.Create(z, [N, C]), Tensor.Create(y, [N, C]),
            where: Tensor.Create(m, [N, C]), computeLabelsGradient: true);
        float[] l = Flatten(loss), g = Flatten(grad), gy = Flatten(labelsGrad!);

        Assert.Equal(0f, l[3]);
        for (int k = 0; k < C; k++) { Assert.Equal(0f, g[3 * C + k]); Assert.Equal(0f, gy[3 * C + k]); }
        var expected = new float[N];
        Poly.CrossEntropy(z, y, expected, C);
        for (int r = 0; r < N; r++) if (r != 3) Assert.Equal(expected[r], l[r]);
    }

    [Fact]
    public void RowMaskOfShapeN1_BroadcastsAlongClasses()
    {
        float[] z = Logits(41, N * C);
        int[] t = Targets(42, N, C);
        bool[] rowMask = Enumerable.Range(0, N).Select(r => r % 3 != 1).ToArray();
        var (loss, grad) = PolyTensor.CrossEntropyWithGradient(Tensor.Create(z, [N, C]), Tensor.Create(t, [N]), where: Tensor.Create(rowMask, [N, 1]));
        float[] l = Flatten(loss), g = Flatten(grad);

        var el = new float[N];
        var eg = new float[N * C];
        Poly.CrossEntropyWithGradient(z, t, el, eg, C);
        for (int r = 0; r < N; r++)
        {
            Assert.Equal(rowMask[r] ? el[r] : 0f, l[r]);
            for (int k = 0; k < C; k++) Assert.Equal(rowMask[r] ? eg[r * C + k] : 0f, g[r * C + k]);
        }
    }

    [Fact]
    public void IntegerTargets_WithWhere_EqualSlicedRows_AndAMaskedTargetActsAsIgnored()
    {
        float[] z = Logits(43, N * C);
        int[] t = Targets(44, N, C);
        bool[] m = Mask(45);
        m[2 * C + t[2]] = false;                       // row 2: its target is masked out
        m[5 * C + 0] = m[5 * C + 1] = true;
        Tensor<float> loss = PolyTensor.CrossEntropy(Tensor.Create(z, [N, C]), Tensor.Create(t, [N]), where: Tensor.Create(m, [N, C]));
        float[] l = Flatten(loss);
        Assert.Equal(0f, l[2]);
        double sum = 0, count = 0;
        for (int r = 0; r < N; r++)
        {
            if (r == 2) continue;
            bool[] keep = m[(r * C)..((r + 1) * C)];
            if (!keep[t[r]]) { Assert.Equal(0f, l[r]); continue; }
            float[] zk = Kept(z[(r * C)..((r + 1) * C)], keep);
            int tk = keep.Take(t[r]).Count(b => b);  // the target's index among the kept classes
            var el = new float[1];
            Poly.CrossEntropy(zk, [tk], el, zk.Length);
            Close(el[0], l[r], 1e-6, 1e-7, $"row {r}");
            sum += l[r];
            count++;
        }
        // A mean leaves the masked-target row out of the denominator, like an ignored row.
        var mean = PolyTensor.CrossEntropy(Tensor.Create(z, [N, C]), Tensor.Create(t, [N]), new PolyLossOptions { Reduction = Reduction.Mean },
            where: Tensor.Create(m, [N, C]));
        Close(sum / count, Flatten(mean)[0], 1e-6, 0, "mean");
    }

    [Fact]
    public void FullyMaskedRow_SkipsTargetValidation()
    {
        float[] z = Logits(46, 2 * C);
        var m = new bool[2 * C];
        for (int k = 0; k < C; k++) m[k] = true;
        Tensor<float> loss = PolyTensor.CrossEntropy(Tensor.Create(z, [2, C]), Tensor.Create(new[] { 1, -1 }, [2]), where: Tensor.Create(m, [2, C]));
        Assert.Equal(0f, Flatten(loss)[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => PolyTensor.CrossEntropy(Tensor.Create(z, [2, C]), Tensor.Create(new[] { 1, -1 }, [2])));
    }

    [Fact]
    public void WhereOfTheWrongShape_ThrowsNamingBothShapes()
    {
        var z = Tensor.Create(Logits(47, N * C), [N, C]);
        var ex = Assert.Throws<ArgumentException>(() => PolyTensor.CrossEntropy(z, z, where: Tensor.Create(new bool[N * (C - 1)], [N, C - 1])));
        Assert.Equal("where", ex.ParamName);
        Assert.Contains($"[{N}, {C - 1}]", ex.Message);
        Assert.Contains($"[{N}, {C}]", ex.Message);
    }

    [Fact]
    public void WhereWithLabelSmoothing_IsNotSupported()
    {
        var z = Tensor.Create(Logits(48, N * C), [N, C]);
        var ex = Assert.Throws<NotSupportedException>(() => PolyTensor.CrossEntropy(z, Tensor.Create(new int[N], [N]),
            new PolyLossOptions { LabelSmoothing = 0.1 }, where: Tensor.Create(new bool[N * C], [N, C])));
        Assert.Contains("LabelSmoothing", ex.Message);
    }
}
