using PolyLoss;

namespace PolyLoss.Tests;

/// <summary>Gradients against central finite differences in double and against the closed forms.</summary>
public class GradientTests
{
    private const double H = 1e-5;

    private static double[] RandomArray(Random rng, int n, double scale) =>
        Enumerable.Range(0, n).Select(_ => (rng.NextDouble() * 2 - 1) * scale).ToArray();

    private static double[] RandomDistributions(Random rng, int rows, int c)
    {
        var y = new double[rows * c];
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int k = 0; k < c; k++) s += y[r * c + k] = rng.NextDouble();
            for (int k = 0; k < c; k++) y[r * c + k] /= s;
        }
        return y;
    }

    public static TheoryData<string> Configurations => new() { "poly1", "eps-1", "polyN", "weights", "smoothing", "mean", "sum-upstream" };

    private static PolyLossOptions Options(string name) => name switch
    {
        "poly1" => new PolyLossOptions(),
        "eps-1" => new PolyLossOptions { Epsilon = -1 },
        "polyN" => new PolyLossOptions { Coefficients = [1.5, -0.7, 0.3] },
        "weights" => new PolyLossOptions { Weight = [0.5, 2, 1, 1.5, 0.25] },
        "smoothing" => new PolyLossOptions { LabelSmoothing = 0.15, Weight = [1, 2, 1, 1, 3] },
        "mean" => new PolyLossOptions { Reduction = Reduction.Mean, Weight = [1, 2, 3, 4, 5] },
        _ => new PolyLossOptions { Reduction = Reduction.Sum, Epsilon = 0.5 },
    };

    [Theory, MemberData(nameof(Configurations))]
    public void Integer_target_gradient_matches_finite_differences(string config)
    {
        var o = Options(config);
        var rng = new Random(config.GetHashCode() & 0xffff);
        const int rows = 6, c = 5;
        double[] z = RandomArray(rng, rows * c, 4);
        int[] t = Enumerable.Range(0, rows).Select(_ => rng.Next(c)).ToArray();
        bool reduced = o.Reduction != Reduction.None;
        double[] upstream = reduced ? [config == "sum-upstream" ? 0.7 : 1] : RandomArray(rng, rows, 2);
        var losses = new double[reduced ? 1 : rows];
        var grad = new double[rows * c];
        Poly.CrossEntropyWithGradient(z, t, losses, grad, c, o, upstream);

        double Objective(double[] zz)
        {
            var l = new double[reduced ? 1 : rows];
            Poly.CrossEntropy(zz, t, l, c, o);
            return l.Select((v, i) => v * upstream[i]).Sum();
        }
        for (int i = 0; i < z.Length; i++)
        {
            var plus = (double[])z.Clone(); plus[i] += H;
            var minus = (double[])z.Clone(); minus[i] -= H;
            double fd = (Objective(plus) - Objective(minus)) / (2 * H);
            Assert.True(Math.Abs(fd - grad[i]) < 1e-8, $"{config} element {i}: fd {fd} vs {grad[i]}");
        }
    }

    [Theory, MemberData(nameof(Configurations))]
    public void Dense_gradients_match_finite_differences(string config)
    {
        var o = Options(config);
        var rng = new Random(config.GetHashCode() & 0xfff);
        const int rows = 4, c = 5;
        double[] z = RandomArray(rng, rows * c, 4);
        double[] y = RandomDistributions(rng, rows, c);
        bool reduced = o.Reduction != Reduction.None;
        double[] upstream = reduced ? [config == "sum-upstream" ? 0.7 : 1] : RandomArray(rng, rows, 2);
        var losses = new double[reduced ? 1 : rows];
        var grad = new double[rows * c];
        var gradY = new double[rows * c];
        Poly.CrossEntropyWithGradient(z, y, losses, grad, c, o, upstream, gradY);

        double Objective(double[] zz, double[] yy)
        {
            var l = new double[reduced ? 1 : rows];
            Poly.CrossEntropy(zz, yy, l, c, o);
            return l.Select((v, i) => v * upstream[i]).Sum();
        }
        for (int i = 0; i < z.Length; i++)
        {
            var plus = (double[])z.Clone(); plus[i] += H;
            var minus = (double[])z.Clone(); minus[i] -= H;
            double fd = (Objective(plus, y) - Objective(minus, y)) / (2 * H);
            Assert.True(Math.Abs(fd - grad[i]) < 1e-8, $"{config} logits element {i}: fd {fd} vs {grad[i]}");

            var yPlus = (double[])y.Clone(); yPlus[i] += H;
            var yMinus = (double[])y.Clone(); yMinus[i] -= H;
            double fdY = (Objective(z, yPlus) - Objective(z, yMinus)) / (2 * H);
            Assert.True(Math.Abs(fdY - gradY[i]) < 1e-8, $"{config} labels element {i}: fd {fdY} vs {gradY[i]}");
        }
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(-1.0)]
    [InlineData(0.0)]
    public void Integer_target_gradient_has_the_closed_form(double eps)
    {
        double[] z = [0.3, -1.2, 2.5, 0.0];
        const int t = 1;
        var l = new double[1];
        var g = new double[4];
        Poly.CrossEntropyWithGradient(z, [t], l, g, 4, eps);
        double s = z.Sum(Math.Exp);
        double pt = Math.Exp(z[t]) / s;
        for (int j = 0; j < 4; j++)
        {
            double expected = j == t ? -(1 - pt) * (1 + eps * pt) : Math.Exp(z[j]) / s * (1 + eps * pt);
            Assert.Equal(expected, g[j], 1e-15);
        }
    }

    [Fact]
    public void Fused_losses_equal_the_loss_only_path_bit_for_bit()
    {
        var rng = new Random(5);
        foreach (int c in new[] { 1, 2, 3, 8, 17, 100 })
        {
            const int rows = 50;
            float[] z = RandomArray(rng, rows * c, 10).Select(v => (float)v).ToArray();
            float[] y = RandomDistributions(rng, rows, c).Select(v => (float)v).ToArray();
            int[] t = Enumerable.Range(0, rows).Select(_ => rng.Next(c)).ToArray();
            var a = new float[rows]; var b = new float[rows]; var g = new float[rows * c];
            Poly.CrossEntropy(z, t, a, c);
            Poly.CrossEntropyWithGradient(z, t, b, g, c);
            Assert.Equal(a, b);
            Poly.CrossEntropy(z, y, a, c, -1f);
            Poly.CrossEntropyWithGradient(z, y, b, g, c, -1f);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void Dense_one_hot_and_integer_targets_agree()
    {
        var rng = new Random(9);
        const int rows = 40, c = 9;
        double[] z = RandomArray(rng, rows * c, 12);
        int[] t = Enumerable.Range(0, rows).Select(_ => rng.Next(c)).ToArray();
        double[] y = new double[rows * c];
        for (int r = 0; r < rows; r++) y[r * c + t[r]] = 1;
        var la = new double[rows]; var lb = new double[rows];
        var ga = new double[rows * c]; var gb = new double[rows * c];
        Poly.CrossEntropyWithGradient(z, t, la, ga, c, -1.0);
        Poly.CrossEntropyWithGradient(z, y, lb, gb, c, -1.0);
        for (int r = 0; r < rows; r++) Assert.Equal(la[r], lb[r], Math.Abs(la[r]) * 1e-15);
        for (int i = 0; i < ga.Length; i++) Assert.Equal(ga[i], gb[i], Math.Abs(ga[i]) * 1e-15 + 1e-300);
    }
}
