using PolyLoss;

namespace PolyLoss.Tests;

/// <summary>PyTorch CrossEntropyLoss semantics, written out by hand from its documentation.</summary>
public class OptionsTests
{
    private static readonly double[] Z = [1.0, 2.0, 0.5, -1.0, 0.0, 3.0, 0.2, 0.2, 0.2];
    private const int C = 3;

    // Row loss -log p_t + eps (1 - p_t), written directly from the definition.
    private static double Row(int r, int t, double eps)
    {
        double s = 0;
        for (int k = 0; k < C; k++) s += Math.Exp(Z[r * C + k]);
        double p = Math.Exp(Z[r * C + t]) / s;
        return -Math.Log(p) + eps * (1 - p);
    }

    [Fact]
    public void Weighted_mean_divides_by_the_sum_of_target_weights()
    {
        double[] w = [1, 2, 3];
        int[] t = [0, 2, 1];
        var mean = new double[1];
        Poly.CrossEntropy(Z, t, mean, C, new PolyLossOptions { Weight = w, Reduction = Reduction.Mean });
        double expected = (1 * Row(0, 0, 2) + 3 * Row(1, 2, 2) + 2 * Row(2, 1, 2)) / (1 + 3 + 2);
        Assert.Equal(expected, mean[0], 1e-14);

        var none = new double[3];
        Poly.CrossEntropy(Z, t, none, C, new PolyLossOptions { Weight = w });
        Assert.Equal(3 * Row(1, 2, 2), none[1], 1e-14);
    }

    [Fact]
    public void Ignored_rows_give_zero_loss_zero_gradient_and_leave_the_mean()
    {
        int[] t = [0, -100, 1];
        var none = new float[3];
        var grad = new float[9];
        Poly.CrossEntropyWithGradient(Z.Select(x => (float)x).ToArray(), t, none, grad, C, new PolyLossOptions());
        Assert.Equal(0f, none[1]);
        Assert.Equal([0f, 0f, 0f], grad[3..6]);

        var mean = new double[1];
        Poly.CrossEntropy(Z, t, mean, C, new PolyLossOptions { Reduction = Reduction.Mean, Epsilon = 1 });
        Assert.Equal((Row(0, 0, 1) + Row(2, 1, 1)) / 2, mean[0], 1e-14);
    }

    [Fact]
    public void Custom_ignore_index_is_honoured()
    {
        var sum = new double[1];
        Poly.CrossEntropy(Z, [0, 7, 1], sum, C, new PolyLossOptions { IgnoreIndex = 7, Reduction = Reduction.Sum });
        Assert.Equal(Row(0, 0, 2) + Row(2, 1, 2), sum[0], 1e-14);
    }

    [Fact]
    public void Mean_over_only_ignored_rows_is_nan_as_in_pytorch()
    {
        var mean = new double[1];
        Poly.CrossEntropy(Z, [-100, -100, -100], mean, C, new PolyLossOptions { Reduction = Reduction.Mean });
        Assert.True(double.IsNaN(mean[0]));
    }

    [Fact]
    public void Sum_equals_the_sum_of_unreduced_rows()
    {
        int[] t = [2, 0, 1];
        var none = new double[3];
        var sum = new double[1];
        Poly.CrossEntropy(Z, t, none, C, new PolyLossOptions { Epsilon = -1 });
        Poly.CrossEntropy(Z, t, sum, C, new PolyLossOptions { Epsilon = -1, Reduction = Reduction.Sum });
        Assert.Equal(none.Sum(), sum[0], 1e-14);
    }

    [Fact]
    public void Label_smoothing_equals_dense_smoothed_labels_in_both_terms()
    {
        const double s = 0.1;
        int[] t = [0, 2, 1];
        var smoothed = new double[3];
        Poly.CrossEntropy(Z, t, smoothed, C, new PolyLossOptions { LabelSmoothing = s });
        for (int r = 0; r < 3; r++)
        {
            double sum = 0;
            for (int k = 0; k < C; k++) sum += Math.Exp(Z[r * C + k]);
            double expected = 0;
            for (int k = 0; k < C; k++)
            {
                double y = (k == t[r] ? 1 - s : 0) + s / C;
                double p = Math.Exp(Z[r * C + k]) / sum;
                expected += y * (-Math.Log(p)) + 2 * y * (1 - p);
            }
            Assert.Equal(expected, smoothed[r], 1e-14);
        }
    }

    [Fact]
    public void Label_smoothing_with_weights_and_eps_zero_matches_pytorch_formula()
    {
        // PyTorch: loss_r = (1 - s) w_t (-log p_t) + (s / C) sum_k w_k (-log p_k); mean divides by sum_r w_t.
        const double s = 0.2;
        double[] w = [0.5, 1, 2];
        int[] t = [0, 2, 1];
        var mean = new double[1];
        Poly.CrossEntropy(Z, t, mean, C, new PolyLossOptions { Epsilon = 0, LabelSmoothing = s, Weight = w, Reduction = Reduction.Mean });
        double total = 0, denom = 0;
        for (int r = 0; r < 3; r++)
        {
            double sum = 0;
            for (int k = 0; k < C; k++) sum += Math.Exp(Z[r * C + k]);
            double smooth = 0;
            for (int k = 0; k < C; k++) smooth += w[k] * -Math.Log(Math.Exp(Z[r * C + k]) / sum);
            total += (1 - s) * w[t[r]] * -Math.Log(Math.Exp(Z[r * C + t[r]]) / sum) + s / C * smooth;
            denom += w[t[r]];
        }
        Assert.Equal(total / denom, mean[0], 1e-14);
    }

    [Fact]
    public void Poly_n_with_one_coefficient_equals_poly_1()
    {
        int[] t = [1, 1, 0];
        var a = new double[3];
        var b = new double[3];
        Poly.CrossEntropy(Z, t, a, C, 0.75);
        Poly.CrossEntropy(Z, t, b, C, new PolyLossOptions { Coefficients = [0.75] });
        Assert.Equal(a, b);
    }

    [Fact]
    public void Poly_n_adds_higher_powers_of_one_minus_pt()
    {
        int[] t = [1, 2, 0];
        var l = new double[3];
        Poly.CrossEntropy(Z, t, l, C, new PolyLossOptions { Coefficients = [1.0, -0.5, 0.25] });
        for (int r = 0; r < 3; r++)
        {
            double ce = Row(r, t[r], 0);
            double q = Row(r, t[r], 1) - ce;
            Assert.Equal(ce + q - 0.5 * q * q + 0.25 * q * q * q, l[r], 1e-13);
        }
    }

    [Fact]
    public void Dense_weights_scale_the_labels()
    {
        double[] w = [2, 0.5, 1];
        double[] y = [0.2, 0.3, 0.5, 1, 0, 0, 0, 0, 1];
        var weighted = new double[3];
        Poly.CrossEntropy(Z, y, weighted, C, new PolyLossOptions { Weight = w });
        var scaled = y.Select((v, i) => v * w[i % C]).ToArray();
        var plain = new double[3];
        Poly.CrossEntropy(Z, scaled, plain, C);
        for (int r = 0; r < 3; r++) Assert.Equal(plain[r], weighted[r], 1e-15);
    }

    [Fact]
    public void Dense_mean_divides_by_row_count()
    {
        double[] y = [0.2, 0.3, 0.5, 1, 0, 0, 0, 0, 1];
        var none = new double[3];
        var mean = new double[1];
        Poly.CrossEntropy(Z, y, none, C, new PolyLossOptions { Weight = [1, 2, 3] });
        Poly.CrossEntropy(Z, y, mean, C, new PolyLossOptions { Weight = [1, 2, 3], Reduction = Reduction.Mean });
        Assert.Equal(none.Sum() / 3, mean[0], 1e-14);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(40)]
    public void A_row_gives_the_same_bits_in_any_batch(int c)
    {
        var rng = new Random(c);
        const int rows = 37;
        var z = new float[rows * c];
        for (int i = 0; i < z.Length; i++) z[i] = (float)(rng.NextDouble() * 10 - 5);
        var t = Enumerable.Range(0, rows).Select(_ => rng.Next(c)).ToArray();
        var all = new float[rows];
        var allGrad = new float[rows * c];
        Poly.CrossEntropyWithGradient(z, t, all, allGrad, c);
        foreach (int start in new[] { 0, 1, 5, 13, 36 })
            foreach (int count in new[] { 1, 3, 8, 9 })
            {
                if (start + count > rows) continue;
                var part = new float[count];
                var partGrad = new float[count * c];
                Poly.CrossEntropyWithGradient(z.AsSpan(start * c, count * c), t.AsSpan(start, count), part, partGrad, c);
                Assert.Equal(all.AsSpan(start, count).ToArray(), part);
                Assert.Equal(allGrad.AsSpan(start * c, count * c).ToArray(), partGrad);
            }
    }

    [Fact]
    public void Results_do_not_depend_on_the_degree_of_parallelism()
    {
        const int rows = 4096, c = 40;
        var rng = new Random(3);
        var z = new float[rows * c];
        for (int i = 0; i < z.Length; i++) z[i] = (float)(rng.NextDouble() * 30 - 15);
        var t = new int[rows];
        for (int r = 0; r < rows; r++) t[r] = rng.Next(c);
        float[]? firstLoss = null, firstGrad = null;
        foreach (int dop in new[] { 1, 2, 4 })
        {
            var l = new float[rows];
            var g = new float[rows * c];
            Poly.CrossEntropyWithGradient(z, t, l, g, c, new PolyLossOptions { MaxDegreeOfParallelism = dop });
            if (firstLoss is null) { firstLoss = l; firstGrad = g; continue; }
            Assert.Equal(firstLoss, l);
            Assert.Equal(firstGrad, g);
        }
    }
}
