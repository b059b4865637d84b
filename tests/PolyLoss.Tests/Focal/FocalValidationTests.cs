namespace PolyLoss.Tests.Focal;

/// <summary>Argument validation of the focal entry points.</summary>
public class FocalValidationTests
{
    private static readonly double[] X = [0.5, -1, 2];
    private static readonly double[] T = [1, 0, 0.5];

    [Fact]
    public void Sigmoid_length_mismatches_name_the_span()
    {
        var e = Assert.Throws<ArgumentException>(() => Poly.SigmoidFocal(X, [1.0, 0], new double[3], FocalOptions.Default));
        Assert.Equal("targets", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Poly.SigmoidFocal(X, T, new double[2], FocalOptions.Default));
        Assert.Equal("losses", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Poly.SigmoidFocal(X, T, new double[3], new FocalOptions { Reduction = Reduction.Mean }));
        Assert.Equal("losses", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Poly.SigmoidFocal(X, T, new double[3], FocalOptions.Default, new double[2]));
        Assert.Equal("logitsGradient", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Poly.SigmoidFocal([1f], [1f], new float[2], FocalOptions.Default));
        Assert.Equal("losses", e.ParamName);
    }

    [Fact]
    public void Sigmoid_target_outside_unit_interval_names_index_and_value()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Poly.SigmoidFocal(X, [1.0, 0, 1.5], new double[3], FocalOptions.Default));
        Assert.Equal("targets", e.ParamName);
        Assert.Contains("targets[2] = 1.5", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Poly.SigmoidFocal([1f], [-0.25f], new float[1], FocalOptions.Default));
        Assert.Contains("targets[0] = -0.25", e.Message);
    }

    [Theory]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Invalid_gamma_throws(double gamma)
    {
        var o = new FocalOptions { Gamma = gamma };
        Assert.Equal("Gamma", Assert.Throws<ArgumentOutOfRangeException>(() => Poly.SigmoidFocal(X, T, new double[3], o)).ParamName);
        Assert.Equal("Gamma", Assert.Throws<ArgumentOutOfRangeException>(() => Poly.SoftmaxFocal(X, [0], new double[1], 3, o)).ParamName);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.NegativeInfinity)]
    public void Non_finite_epsilon_throws(double eps)
    {
        var o = new FocalOptions { Epsilon = eps };
        Assert.Equal("Epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => Poly.SigmoidFocal(X, T, new double[3], o)).ParamName);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Alpha_outside_unit_interval_throws(double alpha)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Poly.SigmoidFocal(X, T, new double[3], new FocalOptions { Alpha = alpha }));
        Assert.Equal("Alpha", e.ParamName);
    }

    [Fact]
    public void Alpha_kinds_are_not_mixed_up()
    {
        Assert.Throws<ArgumentException>(() => Poly.SigmoidFocal(X, T, new double[3], new FocalOptions { ClassAlpha = [0.5] }));
        Assert.Throws<ArgumentException>(() => Poly.SoftmaxFocal(X, [0], new double[1], 3, new FocalOptions { Alpha = 0.25 }));
    }

    [Fact]
    public void Class_alpha_must_match_and_be_non_negative()
    {
        var e = Assert.Throws<ArgumentException>(() => Poly.SoftmaxFocal(X, [0], new double[1], 3, new FocalOptions { ClassAlpha = [1, 1] }));
        Assert.Equal("ClassAlpha", e.ParamName);
        Assert.Contains("numClasses = 3", e.Message);
        e = Assert.Throws<ArgumentException>(() => Poly.SoftmaxFocal(X, [0], new double[1], 3, new FocalOptions { ClassAlpha = [1, -1, 1] }));
        Assert.Contains("ClassAlpha[1]", e.Message);
        Assert.Throws<ArgumentException>(() => Poly.SoftmaxFocal(X, [0], new double[1], 3, new FocalOptions { ClassAlpha = [1, double.NaN, 1] }));
    }

    [Fact]
    public void Softmax_shape_and_target_errors()
    {
        Assert.Equal("numClasses", Assert.Throws<ArgumentOutOfRangeException>(() => Poly.SoftmaxFocal(X, [0], new double[1], 0, FocalOptions.Default)).ParamName);
        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => Poly.SoftmaxFocal(X, [0], new double[1], 2, FocalOptions.Default)).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => Poly.SoftmaxFocal(X, [0, 1], new double[1], 3, FocalOptions.Default)).ParamName);
        Assert.Equal("losses", Assert.Throws<ArgumentException>(() => Poly.SoftmaxFocal(X, [0], new double[2], 3, FocalOptions.Default)).ParamName);
        Assert.Equal("logitsGradient", Assert.Throws<ArgumentException>(() => Poly.SoftmaxFocal(X, [0], new double[1], 3, FocalOptions.Default, new double[1])).ParamName);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Poly.SoftmaxFocal([1f, 2, 3, 4, 5, 6], [1, 7], new float[2], 3, FocalOptions.Default));
        Assert.Equal("targets", e.ParamName);
        Assert.Contains("targets[1] = 7", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Poly.SoftmaxFocal(X, [-1], new double[1], 3, FocalOptions.Default));
        Assert.Contains("targets[0] = -1", e.Message);
    }

    [Fact]
    public void Null_options_and_unknown_reduction_throw()
    {
        Assert.Throws<ArgumentNullException>(() => Poly.SigmoidFocal(X, T, new double[3], null!));
        Assert.Throws<ArgumentNullException>(() => Poly.SoftmaxFocal(X, [0], new double[1], 3, null!));
        Assert.Equal("Reduction", Assert.Throws<ArgumentOutOfRangeException>(
            () => Poly.SigmoidFocal(X, T, new double[3], new FocalOptions { Reduction = (Reduction)7 })).ParamName);
    }
}
