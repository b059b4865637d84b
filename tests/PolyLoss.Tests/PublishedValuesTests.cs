using PolyLoss;

namespace PolyLoss.Tests;

/// <summary>Values computed with the paper's TensorFlow code, pinned by the optax and braintools test suites.</summary>
public class PublishedValuesTests
{
    private static readonly double[] Logits = [0.14, 1.456, 2.356, -0.124, -2.47];
    private static readonly double[] Labels = [0.1, 0.15, 0.2, 0.25, 0.3];

    public static TheoryData<double, double> Published => new()
    {
        { 2.0, 4.5317 }, { 1.0, 3.7153 }, { -1.0, 2.0827 }, { 0.0, 2.8990 },
        { -0.5, 2.4908 }, { 1.15, 3.8378 }, { 1.214, 3.8900 }, { 5.45, 7.3480 },
    };

    [Theory, MemberData(nameof(Published))]
    public void Double_matches_published_value(double eps, double expected)
    {
        var loss = new double[1];
        Poly.CrossEntropy(Logits, Labels, loss, 5, eps);
        Assert.Equal(expected, loss[0], 1e-4);
    }

    [Theory, MemberData(nameof(Published))]
    public void Float_matches_published_value(double eps, double expected)
    {
        var loss = new float[1];
        Poly.CrossEntropy(Logits.Select(x => (float)x).ToArray(), Labels.Select(x => (float)x).ToArray(), loss, 5, (float)eps);
        Assert.Equal(expected, loss[0], 1e-4);
    }

    [Fact]
    public void Seed_example_equals_closed_form()
    {
        // logits [2, 1, 0.1], target 0, eps 2: L = -log p0 + 2 (1 - p0), p0 = e^2 / (e^2 + e + e^0.1).
        double s = Math.Exp(2) + Math.Exp(1) + Math.Exp(0.1);
        double p0 = Math.Exp(2) / s;
        double expected = -Math.Log(p0) + 2 * (1 - p0);
        var dense = new double[1];
        var sparse = new double[1];
        Poly.CrossEntropy([2.0, 1.0, 0.1], [1.0, 0, 0], dense, 3);
        Poly.CrossEntropy([2.0, 1.0, 0.1], [0], sparse, 3);
        Assert.Equal(expected, dense[0], 1e-14);
        Assert.Equal(expected, sparse[0], 1e-14);
        Assert.Equal(1.0990, expected, 1e-4); // 0.4170 cross entropy + 2 * 0.3410
    }
}
