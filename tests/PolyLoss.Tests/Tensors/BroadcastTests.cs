using System.Numerics.Tensors;
using static PolyLoss.Tests.Tensors.TensorTestData;

namespace PolyLoss.Tests.Tensors;

public class BroadcastTests
{
    [Fact]
    public void LabelsOfShapeC_BroadcastAgainstLogitsNC_EqualSpanApiOnRepeatedLabels()
    {
        const int N = 7, C = 5;
        float[] z = Logits(1, N * C);
        float[] y = SoftLabels(2, 1, C);
        Tensor<float> loss = PolyTensor.CrossEntropy(Tensor.Create(z, [N, C]), Tensor.Create(y, [C]), epsilon: 1.5);

        float[] repeated = Enumerable.Range(0, N).SelectMany(_ => y).ToArray();
        var expected = new float[N];
        Poly.CrossEntropy(z, repeated, expected, C, 1.5f);
        Assert.Equal([(nint)N], loss.Lengths.ToArray());
        Assert.Equal(expected, Flatten(loss));
    }

    [Fact]
    public void LabelsOfShapeN1_BroadcastAlongClasses_EqualSpanApiOnExpandedLabels()
    {
        const int N = 6, C = 4;
        float[] z = Logits(3, N * C);
        float[] perRow = [0.25f, 0.5f, 0f, 1f, 0.125f, 2f];
        Tensor<float> loss = PolyTensor.CrossEntropy(Tensor.Create(z, [N, C]), Tensor.Create(perRow, [N, 1]));

        float[] expanded = perRow.SelectMany(v => Enumerable.Repeat(v, C)).ToArray();
        var expected = new float[N];
        Poly.CrossEntropy(z, expanded, expected, C);
        Assert.Equal(expected, Flatten(loss));
    }

    [Fact]
    public void LabelsOfShape1C_AgainstRank3Logits_BroadcastOverLeadingAxes()
    {
        const int A = 2, B = 3, C = 4;
        float[] z = Logits(4, A * B * C);
        float[] y = SoftLabels(5, 1, C);
        Tensor<float> loss = PolyTensor.CrossEntropy(Tensor.Create(z, [A, B, C]), Tensor.Create(y, [1, C]));

        float[] repeated = Enumerable.Range(0, A * B).SelectMany(_ => y).ToArray();
        var expected = new float[A * B];
        Poly.CrossEntropy(z, repeated, expected, C);
        Assert.Equal([(nint)A, B], loss.Lengths.ToArray());
        Assert.Equal(expected, Flatten(loss));
    }

    [Fact]
    public void MismatchedLabels_ThrowArgumentExceptionNamingBothShapes()
    {
        var logits = Tensor.Create(Logits(6, 20), [4, 5]);
        var ex = Assert.Throws<ArgumentException>(() => PolyTensor.CrossEntropy(logits, Tensor.Create(new float[3], [3])));
        Assert.Contains("[3]", ex.Message);
        Assert.Contains("[4, 5]", ex.Message);
        Assert.Equal("labels", ex.ParamName);

        var ex2 = Assert.Throws<ArgumentException>(() => PolyTensor.CrossEntropy(logits, Tensor.Create(new float[8], [2, 4])));
        Assert.Contains("[2, 4]", ex2.Message);
        Assert.Contains("[4, 5]", ex2.Message);
    }

    [Fact]
    public void LabelsOfHigherRankThanLogits_Throw()
    {
        var logits = Tensor.Create(Logits(7, 20), [4, 5]);
        var ex = Assert.Throws<ArgumentException>(() => PolyTensor.CrossEntropy(logits, Tensor.Create(new float[20], [1, 4, 5])));
        Assert.Contains("[1, 4, 5]", ex.Message);
    }

    [Fact]
    public void TargetsOfShape1_BroadcastToEveryRow()
    {
        const int N = 5, C = 6;
        float[] z = Logits(8, N * C);
        Tensor<float> loss = PolyTensor.CrossEntropy(Tensor.Create(z, [N, C]), Tensor.Create(new[] { 4 }, [1]));

        var expected = new float[N];
        Poly.CrossEntropy(z, Enumerable.Repeat(4, N).ToArray(), expected, C);
        Assert.Equal(expected, Flatten(loss));
    }

    [Fact]
    public void TargetsOfWrongBatchShape_ThrowNamingBothShapes()
    {
        var logits = Tensor.Create(Logits(9, 20), [4, 5]);
        var ex = Assert.Throws<ArgumentException>(() => PolyTensor.CrossEntropy(logits, Tensor.Create(new int[3], [3])));
        Assert.Contains("[3]", ex.Message);
        Assert.Contains("[4]", ex.Message);
        Assert.Equal("targets", ex.ParamName);
    }
}
