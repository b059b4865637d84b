using PolyLoss;

namespace PolyLoss.Tests;

public class ValidationTests
{
    [Fact]
    public void Logits_not_a_multiple_of_classes_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Poly.CrossEntropy(new float[7], new float[7], new float[2], 3));
        Assert.Contains("7", ex.Message);
        Assert.Contains("numClasses = 3", ex.Message);
    }

    [Fact]
    public void Labels_length_mismatch_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Poly.CrossEntropy(new double[6], new double[5], new double[2], 3));
        Assert.Equal("labels", ex.ParamName);
        Assert.Contains("5", ex.Message);
        Assert.Contains("6", ex.Message);
    }

    [Fact]
    public void Losses_length_mismatch_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Poly.CrossEntropy(new float[6], new int[2], new float[3], 3));
        Assert.Equal("losses", ex.ParamName);
    }

    [Fact]
    public void Targets_length_mismatch_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Poly.CrossEntropy(new float[6], new int[3], new float[2], 3));
        Assert.Equal("targets", ex.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void Class_count_below_one_is_rejected(int c)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Poly.CrossEntropy(new float[6], new float[6], new float[2], c));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-1)]
    [InlineData(-100)]
    public void Target_out_of_range_names_row_and_value(int bad)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Poly.CrossEntropy(new double[9], [0, bad, 1], new double[3], 3));
        Assert.Contains($"targets[1] = {bad}", ex.Message);
    }

    [Fact]
    public void Gradient_of_wrong_length_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Poly.CrossEntropyWithGradient(new float[6], [0, 1], new float[2], new float[5], 3));
        Assert.Equal("logitsGradient", ex.ParamName);
    }

    [Fact]
    public void Weight_of_wrong_length_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Poly.CrossEntropy(new float[6], [0, 1], new float[2], 3, new PolyLossOptions { Weight = [1, 2] }));
        Assert.Contains("Weight has 2", ex.Message);
    }

    [Fact]
    public void Negative_weight_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Poly.CrossEntropy(new float[6], [0, 1], new float[2], 3, new PolyLossOptions { Weight = [1, -2, 1] }));
        Assert.Contains("Weight[1]", ex.Message);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Smoothing_outside_unit_interval_is_rejected(double s)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Poly.CrossEntropy(new float[6], [0, 1], new float[2], 3, new PolyLossOptions { LabelSmoothing = s }));
    }

    [Fact]
    public void Empty_poly_coefficients_are_rejected()
    {
        Assert.Throws<ArgumentException>(() =>
            Poly.CrossEntropy(new double[6], [0, 1], new double[2], 3, new PolyLossOptions { Coefficients = [] }));
    }

    [Fact]
    public void Upstream_of_wrong_length_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Poly.CrossEntropyWithGradient(new float[6], [0, 1], new float[2], new float[6], 3, PolyLossOptions.Default, new float[3]));
        Assert.Equal("upstream", ex.ParamName);
    }

    [Fact]
    public void Reduced_loss_needs_a_single_output()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Poly.CrossEntropy(new float[6], [0, 1], new float[2], 3, new PolyLossOptions { Reduction = Reduction.Mean }));
        Assert.Equal("losses", ex.ParamName);
    }

    [Fact]
    public void Null_options_are_rejected()
    {
        Assert.Throws<ArgumentNullException>(() => Poly.CrossEntropy(new float[6], [0, 1], new float[2], 3, (PolyLossOptions)null!));
    }
}
