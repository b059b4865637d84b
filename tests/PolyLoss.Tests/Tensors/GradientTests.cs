using System.Numerics.Tensors;
using static PolyLoss.Tests.Tensors.TensorTestData;

namespace PolyLoss.Tests.Tensors;

public class GradientTests
{
    [Fact]
    public void DenseGradients_OnAxisZero_EqualTheSpanApiOnTransposedData()
    {
        const int C = 5, A = 3, B = 2;
        nint[] shape = [C, A, B];
        float[] z = Logits(70, C * A * B);
        float[] yRows = SoftLabels(71, A * B, C);                  // [A, B, C]
        float[] y = Permute(yRows, [A, B, C], [2, 0, 1]);          // [C, A, B]
        var (loss, grad, labelsGrad) = PolyTensor.CrossEntropyWithGradient(Tensor.Create(z, shape), Tensor.Create(y, shape), epsilon: 1.5, axis: 0, computeLabelsGradient: true);

        float[] zRows = Permute(z, shape, [1, 2, 0]);
        var el = new float[A * B];
        var eg = new float[A * B * C];
        var egy = new float[A * B * C];
        Poly.CrossEntropyWithGradient(zRows, yRows, el, eg, C, new PolyLossOptions { Epsilon = 1.5 }, default, egy);

        Assert.Equal([(nint)A, B], loss.Lengths.ToArray());
        Assert.Equal(shape, grad.Lengths.ToArray());
        Assert.Equal(shape, labelsGrad!.Lengths.ToArray());
        Assert.Equal(el, Flatten(loss));
        Assert.Equal(Permute(eg, [A, B, C], [2, 0, 1]), Flatten(grad));
        Assert.Equal(Permute(egy, [A, B, C], [2, 0, 1]), Flatten(labelsGrad));
    }

    [Fact]
    public void TargetGradients_OverTwoAxes_EqualTheSpanApiOnReshapedData()
    {
        nint[] shape = [2, 4, 3];                 // classes: axes 0 and 2 (6), batch: axis 1 (4)
        float[] z = Logits(72, 24);
        int[] t = Targets(73, 4, 6);
        var options = new PolyLossOptions { Coefficients = [2, 0.5, 0.25], Weight = [1, 2, 0.5, 1, 1, 3] };
        var (loss, grad) = PolyTensor.CrossEntropyWithGradient(Tensor.Create(z, shape), Tensor.Create(t, [4]), options, [2, 0]);

        var el = new float[4];
        var eg = new float[24];
        Poly.CrossEntropyWithGradient(Permute(z, shape, [1, 0, 2]), t, el, eg, 6, options);
        Assert.Equal(el, Flatten(loss));
        Assert.Equal(Permute(eg, [4, 2, 3], [1, 0, 2]), Flatten(grad));
    }

    [Fact]
    public void DoubleGradient_MatchesTheAnalyticReference()
    {
        const int N = 6, C = 5;
        double[] z = ToDouble(Logits(74, N * C, scale: 5));
        double[] y = ToDouble(SoftLabels(75, N, C));
        // Column-major storage viewed as [N, C]: the gather path.
        double[] storage = Permute(z, [N, C], [1, 0]);
        var logits = new ReadOnlyTensorSpan<double>(storage, 0, [N, C], [1, N]);
        var (_, grad) = PolyTensor.CrossEntropyWithGradient(logits, Tensor.Create(y, [N, C]), epsilon: 2.0);
        double[] g = Flatten(grad);
        for (int r = 0; r < N; r++)
            AllClose(RefGradient(z.AsSpan(r * C, C), y.AsSpan(r * C, C), 2.0), g.AsSpan(r * C, C), 1e-12, 1e-15);
    }

    [Fact]
    public void LabelsGradient_OfBroadcastLabels_IsSummedOverTheBroadcastAxes()
    {
        const int N = 9, C = 4;
        float[] z = Logits(76, N * C);
        float[] y = SoftLabels(77, 1, C);
        var result = PolyTensor.CrossEntropyWithGradient(Tensor.Create(z, [N, C]), Tensor.Create(y, [C]), computeLabelsGradient: true);
        Assert.Equal([(nint)C], result.LabelsGradient!.Lengths.ToArray());

        var l = new float[N];
        var g = new float[N * C];
        var gy = new float[N * C];
        Poly.CrossEntropyWithGradient(z, Enumerable.Range(0, N).SelectMany(_ => y).ToArray(), l, g, C, PolyLossOptions.Default, default, gy);
        float[] actual = Flatten(result.LabelsGradient);
        for (int k = 0; k < C; k++)
        {
            double sum = 0;
            for (int r = 0; r < N; r++) sum += gy[r * C + k];
            Close(sum, actual[k], 1e-6, 0, $"class {k}");
        }
        Assert.Null(PolyTensor.CrossEntropyWithGradient(Tensor.Create(z, [N, C]), Tensor.Create(y, [C])).LabelsGradient);
    }

    [Fact]
    public void Upstream_PerRow_IsBroadcastToTheLossShape_AndScalesEachRow()
    {
        const int A = 3, B = 2, C = 4;
        float[] z = Logits(78, A * B * C);
        int[] t = Targets(79, A * B, C);
        float[] upA = [0.5f, -2f, 3f];                            // [A, 1] broadcast over B
        var options = new PolyLossOptions();
        var (loss, grad) = PolyTensor.CrossEntropyWithGradient(Tensor.Create(z, [A, B, C]), Tensor.Create(t, [A, B]), options,
            upstream: Tensor.Create(upA, [A, 1]));

        float[] upstream = upA.SelectMany(u => new[] { u, u }).ToArray();
        var el = new float[A * B];
        var eg = new float[A * B * C];
        Poly.CrossEntropyWithGradient(z, t, el, eg, C, options, upstream);
        Assert.Equal(el, Flatten(loss));
        Assert.Equal(eg, Flatten(grad));
    }

    [Fact]
    public void Upstream_OfAReducedLoss_IsOneScalar()
    {
        const int N = 7, C = 3;
        float[] z = Logits(80, N * C);
        float[] y = SoftLabels(81, N, C);
        var options = new PolyLossOptions { Reduction = Reduction.Mean };
        // Gathered (classes on axis 0) and in place must both equal the span API.
        float[] zT = Permute(z, [N, C], [1, 0]), yT = Permute(y, [N, C], [1, 0]);
        var (loss, grad) = PolyTensor.CrossEntropyWithGradient(Tensor.Create(zT, [C, N]), Tensor.Create(yT, [C, N]), options, axis: 0,
            upstream: Tensor.Create(new[] { 0.25f }, [1]));

        var el = new float[1];
        var eg = new float[N * C];
        Poly.CrossEntropyWithGradient(z, y, el, eg, C, options, [0.25f]);
        Assert.Equal(el, Flatten(loss));
        Assert.Equal(Permute(eg, [N, C], [1, 0]), Flatten(grad));

        Assert.Throws<ArgumentException>(() => PolyTensor.CrossEntropyWithGradient(Tensor.Create(z, [N, C]), Tensor.Create(y, [N, C]), options,
            upstream: Tensor.Create(new float[2], [2])));
    }

    [Fact]
    public void UpstreamOfTheWrongShape_ThrowsNamingBothShapes()
    {
        var z = Tensor.Create(Logits(82, 12), [3, 4]);
        var ex = Assert.Throws<ArgumentException>(() => PolyTensor.CrossEntropyWithGradient(z, Tensor.Create(new int[3], [3]), new PolyLossOptions(),
            upstream: Tensor.Create(new float[2], [2])));
        Assert.Equal("upstream", ex.ParamName);
        Assert.Contains("[2]", ex.Message);
        Assert.Contains("[3]", ex.Message);
    }

    [Fact]
    public void GradientLoss_EqualsTheLossAlone()
    {
        float[] z = Logits(83, 40);
        float[] y = SoftLabels(84, 8, 5);
        var logits = Tensor.Create(z, [8, 5]);
        var labels = Tensor.Create(y, [8, 5]);
        Assert.Equal(Flatten(PolyTensor.CrossEntropy(logits, labels, axis: 0)), Flatten(PolyTensor.CrossEntropyWithGradient(logits, labels, axis: 0).Loss));
    }
}
