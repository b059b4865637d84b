using PolyLoss;

namespace PolyLoss.Tests;

public class EdgeCaseTests
{
    [Theory]
    [InlineData(2.0)]
    [InlineData(-1.0)]
    [InlineData(0.0)]
    public void Three_equal_huge_float_logits_give_log3_plus_eps_two_thirds(double eps)
    {
        float[] z = [1e8f, 1e8f, 1e8f];
        float expected = (float)(Math.Log(3) + eps * 2.0 / 3.0);
        var dense = new float[1];
        var sparse = new float[1];
        Poly.CrossEntropy(z, [0f, 1f, 0f], dense, 3, (float)eps);
        Poly.CrossEntropy(z, [1], sparse, 3, (float)eps);
        Assert.Equal(expected, dense[0]);
        Assert.Equal(expected, sparse[0]);
    }

    [Fact]
    public void Zero_label_on_minus_infinity_logit_contributes_nothing()
    {
        double[] z = [0.3, double.NegativeInfinity, 1.7];
        double[] y = [0.25, 0, 0.75];
        var loss = new double[1];
        var grad = new double[3];
        Poly.CrossEntropyWithGradient(z, y, loss, grad, 3);
        var dropped = new double[1];
        var droppedGrad = new double[2];
        Poly.CrossEntropyWithGradient([0.3, 1.7], [0.25, 0.75], dropped, droppedGrad, 2);
        Assert.Equal(dropped[0], loss[0], 15);
        Assert.Equal(0.0, grad[1]);
        Assert.Equal(droppedGrad[0], grad[0], 15);
        Assert.Equal(droppedGrad[1], grad[2], 15);
    }

    [Fact]
    public void Minus_infinity_logit_with_zero_label_has_zero_gradient_for_integer_targets()
    {
        float[] z = [2f, float.NegativeInfinity, -1f];
        var loss = new float[1];
        var grad = new float[3];
        Poly.CrossEntropyWithGradient(z, [0], loss, grad, 3);
        Assert.True(float.IsFinite(loss[0]));
        Assert.Equal(0f, grad[1]);
        Assert.All(grad, g => Assert.False(float.IsNaN(g)));
    }

    [Fact]
    public void Positive_label_on_minus_infinity_logit_gives_infinite_loss_and_limit_gradient()
    {
        double[] z = [1.0, double.NegativeInfinity, 0.5];
        var loss = new double[1];
        var grad = new double[3];
        Poly.CrossEntropyWithGradient(z, [0.5, 0.5, 0], loss, grad, 3, 2.0);
        Assert.Equal(double.PositiveInfinity, loss[0]);
        Assert.Equal(-0.5, grad[1]);
        Assert.All(grad, g => Assert.True(double.IsFinite(g)));

        var sparse = new double[1];
        var sparseGrad = new double[3];
        Poly.CrossEntropyWithGradient(z, [1], sparse, sparseGrad, 3, 2.0);
        Assert.Equal(double.PositiveInfinity, sparse[0]);
        Assert.Equal(-1.0, sparseGrad[1]);
    }

    [Fact]
    public void Nan_in_one_row_leaves_every_other_row_untouched()
    {
        const int rows = 3000, c = 17; // large enough for the parallel path
        var rng = new Random(7);
        var z = new float[rows * c];
        for (int i = 0; i < z.Length; i++) z[i] = (float)(rng.NextDouble() * 8 - 4);
        var targets = new int[rows];
        for (int r = 0; r < rows; r++) targets[r] = rng.Next(c);
        var clean = new float[rows];
        Poly.CrossEntropy(z, targets, clean, c);
        int[] poisoned = [0, 5, 1234, rows - 1];
        foreach (int r in poisoned) z[r * c + (r % c)] = float.NaN;
        var losses = new float[rows];
        var grad = new float[rows * c];
        Poly.CrossEntropyWithGradient(z, targets, losses, grad, c);
        for (int r = 0; r < rows; r++)
        {
            if (Array.IndexOf(poisoned, r) >= 0)
            {
                Assert.True(float.IsNaN(losses[r]), $"row {r}");
                Assert.True(float.IsNaN(grad[r * c]), $"row {r}");
            }
            else
            {
                Assert.Equal(clean[r], losses[r]);
                for (int j = 0; j < c; j++) Assert.False(float.IsNaN(grad[r * c + j]));
            }
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(16)]
    public void Special_values_in_a_group_of_few_class_rows_stay_in_their_row(int c)
    {
        const int rows = 40;
        var rng = new Random(c);
        var z = new float[rows * c];
        for (int i = 0; i < z.Length; i++) z[i] = (float)(rng.NextDouble() * 6 - 3);
        var t = Enumerable.Range(0, rows).Select(r => r % c).ToArray();
        var clean = new float[rows];
        Poly.CrossEntropy(z, t, clean, c);
        z[3 * c + 1] = float.NaN;                                          // NaN row
        z[9 * c + (t[9] + 1) % c] = float.PositiveInfinity;                // one +inf logit, not the target
        for (int k = 0; k < c; k++) z[17 * c + k] = float.NegativeInfinity; // all -inf
        z[20 * c + t[20]] = float.NegativeInfinity;                        // -inf on the target
        var losses = new float[rows];
        var grad = new float[rows * c];
        Poly.CrossEntropyWithGradient(z, t, losses, grad, c);
        Assert.True(float.IsNaN(losses[3]));
        Assert.Equal(float.PositiveInfinity, losses[9]);                   // p_t -> 0
        Assert.True(float.IsNaN(losses[17]));
        Assert.Equal(float.PositiveInfinity, losses[20]);
        Assert.Equal(-1f, grad[20 * c + t[20]]);
        for (int r = 0; r < rows; r++)
            if (r is not (3 or 9 or 17 or 20)) Assert.Equal(clean[r], losses[r]);
    }

    [Fact]
    public void Infinite_maximum_off_target_gives_the_limit_gradient_on_every_path()
    {
        foreach (var path in AccuracyTests.Paths())
        {
            var loss = new double[1];
            var grad = new double[3];
            AccuracyTests.WithPath(path, () => { Poly.CrossEntropyWithGradient([double.PositiveInfinity, 0, -1], [1], loss, grad, 3); return 0; });
            Assert.Equal(double.PositiveInfinity, loss[0]);
            Assert.Equal([1.0, -1.0, 0.0], grad); // p -> one-hot at the +inf logit
        }
    }

    [Fact]
    public void Exponentials_far_below_the_range_are_exactly_zero_on_every_path()
    {
        // exp(-2871) rounds to 0: the loss -log p_0 = log1p(sum of those) is 0 and so are their gradients.
        double[] z = [0, -2871, -2871, -2871, -2871, -2871, -2871, -2871, -2871, -2871, -2871];
        float[] zf = z.Select(v => (float)v).ToArray();
        foreach (var path in AccuracyTests.Paths())
        {
            var ld = new double[1]; var gd = new double[z.Length];
            var lf = new float[1]; var gf = new float[z.Length];
            AccuracyTests.WithPath(path, () => { Poly.CrossEntropyWithGradient(z, [0], ld, gd, z.Length, 0.0); return 0; });
            AccuracyTests.WithPath(path, () => { Poly.CrossEntropyWithGradient(zf, [0], lf, gf, z.Length, 0f); return 0; });
            Assert.Equal(0.0, ld[0]);
            Assert.Equal(0f, lf[0]);
            Assert.All(gd, g => Assert.Equal(0.0, g));
            Assert.All(gf, g => Assert.Equal(0f, g));
        }
    }

    [Fact]
    public void Nan_label_makes_only_its_row_nan()
    {
        double[] z = [1, 2, 3, 1, 2, 3];
        double[] y = [0, double.NaN, 1, 0, 0, 1];
        var loss = new double[2];
        Poly.CrossEntropy(z, y, loss, 3);
        Assert.True(double.IsNaN(loss[0]));
        Assert.True(double.IsFinite(loss[1]));
    }

    [Fact]
    public void Single_class_gives_zero_loss_and_gradient()
    {
        var loss = new float[2];
        var grad = new float[2];
        Poly.CrossEntropyWithGradient([5f, -3f], [0, 0], loss, grad, 1);
        Assert.Equal([0f, 0f], loss);
        Assert.Equal([0f, 0f], grad);
    }

    [Fact]
    public void All_minus_infinity_row_is_nan()
    {
        var loss = new double[1];
        Poly.CrossEntropy([double.NegativeInfinity, double.NegativeInfinity], [0], loss, 2);
        Assert.True(double.IsNaN(loss[0]));
    }

    [Fact]
    public void Zero_rows_is_valid_and_empty()
    {
        Poly.CrossEntropy(ReadOnlySpan<float>.Empty, ReadOnlySpan<int>.Empty, Span<float>.Empty, 10);
        Poly.CrossEntropyWithGradient(ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty, Span<double>.Empty, Span<double>.Empty, 4);
    }

    [Theory]
    [InlineData(8.0)]
    [InlineData(16.0)]
    [InlineData(30.0)]
    [InlineData(60.0)]
    public void Eps_minus_one_confident_two_class_row_keeps_its_digits(double margin)
    {
        // z = [margin, 0]: q = 1 - p_0 = 1 / (1 + e^margin); L = -log(1 - q) - q = sum_{n>=2} q^n / n.
        // Reference: q from the float logits in double, series in double; accurate to a few double ulps.
        float zf = (float)margin;
        double q = 1.0 / (1.0 + Math.Exp(zf));
        double series = 0, pow = q;
        for (int n = 2; n < 60; n++) { pow *= q; series += pow / n; }
        var loss = new float[1];
        Poly.CrossEntropy([zf, 0f], [0], loss, 2, -1f);
        Assert.Equal((float)series, loss[0]);
        // Naive evaluation loses everything here:
        Assert.True(margin < 20 || (float)(-Math.Log(1 - q) - q) != (float)series);
    }

    [Fact]
    public void Eps_zero_equals_softmax_cross_entropy()
    {
        var rng = new Random(11);
        foreach (int c in new[] { 1, 2, 3, 7, 8, 15, 16, 17, 33, 1000 })
        {
            int rows = 20;
            var z = new float[rows * c];
            var y = new float[rows * c];
            for (int i = 0; i < z.Length; i++) { z[i] = (float)(rng.NextDouble() * 20 - 10); y[i] = (float)rng.NextDouble(); }
            var losses = new float[rows];
            Poly.CrossEntropy(z, y, losses, c, 0f);
            for (int r = 0; r < rows; r++)
            {
                double m = double.NegativeInfinity;
                for (int k = 0; k < c; k++) m = Math.Max(m, z[r * c + k]);
                double s = 0;
                for (int k = 0; k < c; k++) s += Math.Exp(z[r * c + k] - m);
                double ce = 0;
                for (int k = 0; k < c; k++) ce -= y[r * c + k] * (z[r * c + k] - m - Math.Log(s));
                Assert.Equal(ce, losses[r], Math.Max(1e-6 * Math.Abs(ce), 1e-12));
            }
        }
    }
}
