using System.Numerics.Tensors;
using static PolyLoss.Tests.Tensors.TensorTestData;

namespace PolyLoss.Tests.Tensors;

public class AxisTests
{
    [Fact]
    public void MiddleAxis_EqualsSpanApiWithThatAxisMovedLast()
    {
        const int A = 2, C = 5, B = 3;
        nint[] shape = [A, C, B];
        float[] z = Logits(10, A * C * B);
        float[] y = Permute(SoftLabels(11, A * B, C), [A, B, C], [0, 2, 1]); // row-normalised along axis 1

        Tensor<float> loss = PolyTensor.CrossEntropy(Tensor.Create(z, shape), Tensor.Create(y, shape), axis: 1);

        var expected = new float[A * B];
        Poly.CrossEntropy(Permute(z, shape, [0, 2, 1]), Permute(y, shape, [0, 2, 1]), expected, C);
        Assert.Equal([(nint)A, B], loss.Lengths.ToArray());
        Assert.Equal(expected, Flatten(loss));
    }

    [Fact]
    public void NegativeAxis_EqualsTheSamePositiveAxis()
    {
        nint[] shape = [3, 4, 5];
        var z = Tensor.Create(Logits(12, 60), shape);
        var y = Tensor.Create(SoftLabels(13, 12, 5), shape);
        for (int axis = 0; axis < 3; axis++)
            Assert.Equal(Flatten(PolyTensor.CrossEntropy(z, y, axis: axis)), Flatten(PolyTensor.CrossEntropy(z, y, axis: axis - 3)));
    }

    [Fact]
    public void FirstAxis_WithIntegerTargets_EqualsSpanApiOnTransposedLogits()
    {
        const int C = 6, N = 4;
        float[] z = Logits(14, C * N);
        int[] t = Targets(15, N, C);
        Tensor<float> loss = PolyTensor.CrossEntropy(Tensor.Create(z, [C, N]), Tensor.Create(t, [N]), epsilon: -1, axis: 0);

        var expected = new float[N];
        Poly.CrossEntropy(Permute(z, [C, N], [1, 0]), t, expected, C, -1f);
        Assert.Equal(expected, Flatten(loss));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-4)]
    public void AxisOutOfRange_ThrowsArgumentOutOfRange(int axis)
    {
        var z = Tensor.Create(Logits(16, 24), [2, 3, 4]);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => PolyTensor.CrossEntropy(z, z, axis: axis));
        Assert.Equal("axis", ex.ParamName);
    }

    [Fact]
    public void TrailingAxes_EqualReshapingThemIntoOne()
    {
        float[] z = Logits(17, 2 * 3 * 4);
        float[] y = SoftLabels(18, 2, 12);
        Tensor<float> multi = PolyTensor.CrossEntropy(Tensor.Create(z, [2, 3, 4]), Tensor.Create(y, [2, 3, 4]), [1, 2]);
        Tensor<float> single = PolyTensor.CrossEntropy(Tensor.Create(z, [2, 12]), Tensor.Create(y, [2, 12]));

        var expected = new float[2];
        Poly.CrossEntropy(z, y, expected, 12);
        Assert.Equal([(nint)2], multi.Lengths.ToArray());
        Assert.Equal(expected, Flatten(multi));
        Assert.Equal(expected, Flatten(single));
    }

    [Theory]
    [InlineData(new[] { 0, 2 })]
    [InlineData(new[] { 2, 0 })]
    [InlineData(new[] { -1, -3 })]
    public void NonAdjacentAxes_EqualMovingThemLastAndReshaping(int[] axes)
    {
        nint[] shape = [3, 2, 4];
        float[] z = Logits(19, 24);
        float[] yMoved = SoftLabels(20, 2, 12);                         // [2, 3*4] after moving axes 0 and 2 last
        float[] y = Permute(yMoved, [2, 3, 4], [1, 0, 2]);              // back to [3, 2, 4]
        Tensor<float> loss = PolyTensor.CrossEntropy(Tensor.Create(z, shape), Tensor.Create(y, shape), axes, epsilon: 0.5);

        var expected = new float[2];
        Poly.CrossEntropy(Permute(z, shape, [1, 0, 2]), yMoved, expected, 12, 0.5f);
        Assert.Equal(expected, Flatten(loss));
    }

    [Fact]
    public void SeveralAxes_WithIntegerTargets_IndexTheFlattenedClassesRowMajor()
    {
        nint[] shape = [3, 2, 4];                 // classes: axes 0 and 2 -> 12, batch: axis 1 -> 2
        float[] z = Logits(21, 24);
        int[] t = [7, 11];                        // 7 = (1, 3), 11 = (2, 3) over axes (0, 2)
        Tensor<float> loss = PolyTensor.CrossEntropy(Tensor.Create(z, shape), Tensor.Create(t, [2]), [0, 2]);

        var expected = new float[2];
        Poly.CrossEntropy(Permute(z, shape, [1, 0, 2]), t, expected, 12);
        Assert.Equal(expected, Flatten(loss));
    }

    [Fact]
    public void RepeatedOrEmptyAxes_Throw()
    {
        var z = Tensor.Create(Logits(22, 24), [2, 3, 4]);
        var ex = Assert.Throws<ArgumentException>(() => PolyTensor.CrossEntropy(z, z, [1, -2]));
        Assert.Equal("axes", ex.ParamName);
        Assert.Throws<ArgumentException>(() => PolyTensor.CrossEntropy(z, z, ReadOnlySpan<int>.Empty));
        Assert.Throws<ArgumentOutOfRangeException>(() => PolyTensor.CrossEntropy(z, z, [0, 3]));
    }

    [Fact]
    public void AllAxesAsClasses_GiveALossOfShapeOne()
    {
        float[] z = Logits(23, 6);
        float[] y = SoftLabels(24, 1, 6);
        Tensor<float> loss = PolyTensor.CrossEntropy(Tensor.Create(z, [2, 3]), Tensor.Create(y, [2, 3]), [0, 1]);
        var expected = new float[1];
        Poly.CrossEntropy(z, y, expected, 6);
        Assert.Equal([(nint)1], loss.Lengths.ToArray());
        Assert.Equal(expected, Flatten(loss));

        Tensor<float> rank1 = PolyTensor.CrossEntropy(Tensor.Create(z, [6]), Tensor.Create(y, [6]));
        Assert.Equal([(nint)1], rank1.Lengths.ToArray());
        Assert.Equal(expected, Flatten(rank1));
    }
}
