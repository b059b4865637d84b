using System.Numerics.Tensors;
using static PolyLoss.Tests.Tensors.TensorTestData;

namespace PolyLoss.Tests.Tensors;

public class TargetsAndReductionTests
{
    [Fact]
    public void IntegerTargets_OfTheBatchShape_EqualTheSpanApi()
    {
        const int A = 3, B = 4, C = 5;
        float[] z = Logits(60, A * B * C);
        int[] t = Targets(61, A * B, C);
        Tensor<float> loss = PolyTensor.CrossEntropy(Tensor.Create(z, [A, B, C]), Tensor.Create(t, [A, B]), epsilon: 2);
        var expected = new float[A * B];
        Poly.CrossEntropy(z, t, expected, C);
        Assert.Equal([(nint)A, B], loss.Lengths.ToArray());
        Assert.Equal(expected, Flatten(loss));
    }

    [Fact]
    public void TargetOutOfRange_ThrowsNamingItsBatchIndexAndValue()
    {
        int[] t = new int[6];
        t[5] = 5;
        var z = Tensor.Create(Logits(62, 30), [2, 3, 5]);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => PolyTensor.CrossEntropy(z, Tensor.Create(t, [2, 3])));
        Assert.Equal("targets", ex.ParamName);
        Assert.Contains("targets[1, 2] = 5", ex.Message);
    }

    [Fact]
    public void IgnoreIndex_IsRejectedByTheEpsilonOverload_AndIgnoredWithOptions()
    {
        const int N = 4, C = 3;
        float[] z = Logits(63, N * C);
        int[] t = [0, -100, 2, 1];
        var logits = Tensor.Create(z, [N, C]);
        Assert.Throws<ArgumentOutOfRangeException>(() => PolyTensor.CrossEntropy(logits, Tensor.Create(t, [N])));

        var options = new PolyLossOptions { Epsilon = 2 };
        float[] l = Flatten(PolyTensor.CrossEntropy(logits, Tensor.Create(t, [N]), options));
        var expected = new float[N];
        Poly.CrossEntropy(z, t, expected, C, options);
        Assert.Equal(expected, l);
        Assert.Equal(0f, l[1]);
    }

    public static TheoryData<Reduction, bool> ReductionCases => new()
    {
        { Reduction.Mean, false }, { Reduction.Sum, false }, { Reduction.Mean, true }, { Reduction.Sum, true },
    };

    [Theory]
    [MemberData(nameof(ReductionCases))]
    public void Reductions_GiveAShapeOneTensor_EqualToTheSpanApiOnContiguousRows(Reduction reduction, bool transposed)
    {
        const int N = 11, C = 4;
        float[] z = Logits(64, N * C);
        float[] y = SoftLabels(65, N, C);
        int[] t = Targets(66, N, C);
        t[3] = -100;
        var options = new PolyLossOptions { Reduction = reduction, Weight = [0.5, 1, 2, 1.5], Coefficients = [1, -0.5] };
        var expectedDense = new float[1];
        var expectedTargets = new float[1];
        Poly.CrossEntropy(z, y, expectedDense, C, options);
        Poly.CrossEntropy(z, t, expectedTargets, C, options);

        // Either the contiguous [N, C] layout (used in place) or the same data stored as [C, N] with axis 0 (gathered).
        Tensor<float> dense, targets;
        if (transposed)
        {
            dense = PolyTensor.CrossEntropy(Tensor.Create(Permute(z, [N, C], [1, 0]), [C, N]), Tensor.Create(Permute(y, [N, C], [1, 0]), [C, N]), options, axis: 0);
            targets = PolyTensor.CrossEntropy(Tensor.Create(Permute(z, [N, C], [1, 0]), [C, N]), Tensor.Create(t, [N]), options, axis: 0);
        }
        else
        {
            dense = PolyTensor.CrossEntropy(Tensor.Create(z, [N, C]), Tensor.Create(y, [N, C]), options);
            targets = PolyTensor.CrossEntropy(Tensor.Create(z, [N, C]), Tensor.Create(t, [N]), options);
        }
        Assert.Equal([(nint)1], dense.Lengths.ToArray());
        Assert.Equal([(nint)1], targets.Lengths.ToArray());
        Assert.Equal(expectedDense, Flatten(dense));
        Assert.Equal(expectedTargets, Flatten(targets));
    }

    [Fact]
    public void Sum_EqualsTheSumOfTheUnreducedLosses()
    {
        double[] z = ToDouble(Logits(67, 5 * 6 * 3));
        int[] t = Targets(68, 15, 6);
        var logits = Tensor.Create(z, [5, 6, 3]);
        double[] rows = Flatten(PolyTensor.CrossEntropy(logits, Tensor.Create(t, [5, 3]), axis: 1));
        double[] sum = Flatten(PolyTensor.CrossEntropy(logits, Tensor.Create(t, [5, 3]), new PolyLossOptions { Reduction = Reduction.Sum }, axis: 1));
        Close(rows.Sum(), sum[0], 1e-14, 0, "sum");
    }

    [Fact]
    public void EmptyBatch_GivesAnEmptyLoss_AndAMeanOfNaN()
    {
        var z = Tensor.Create(new float[0], [0, 4]);
        var t = Tensor.Create(new int[0], [0]);
        Tensor<float> none = PolyTensor.CrossEntropy(z, t);
        Assert.Equal([(nint)0], none.Lengths.ToArray());
        Assert.True(float.IsNaN(Flatten(PolyTensor.CrossEntropy(z, t, new PolyLossOptions { Reduction = Reduction.Mean }))[0]));
        Assert.Equal(0f, Flatten(PolyTensor.CrossEntropy(z, z, new PolyLossOptions { Reduction = Reduction.Sum }))[0]);
    }

    [Fact]
    public void ClassAxisOfLengthZero_Throws()
    {
        var z = Tensor.Create(new float[0], [3, 0]);
        Assert.Throws<ArgumentException>(() => PolyTensor.CrossEntropy(z, z));
    }
}
