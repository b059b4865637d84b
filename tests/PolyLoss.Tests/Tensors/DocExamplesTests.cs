using System.Numerics.Tensors;
using static PolyLoss.Tests.Tensors.TensorTestData;

namespace PolyLoss.Tests.Tensors;

/// <summary>The examples of docs/tensor-api.md, run with their stated results checked.</summary>
public class DocExamplesTests
{
    private static readonly float[] Z = [2f, 0.5f, -1f, 0f, 1f, 3f];
    private static readonly float[] Y = [1f, 0f, 0f, 0f, 0f, 1f];

    [Fact]
    public void DocExamples_RunAndGiveTheDocumentedShapesAndValues()
    {
        Tensor<float> logits = Tensor.Create(Z, [2, 3]);
        Tensor<float> labels = Tensor.Create(Y, [2, 3]);

        Tensor<float> loss = PolyTensor.CrossEntropy(logits, labels);
        Tensor<float> ce = PolyTensor.CrossEntropy(logits, labels, epsilon: 0);
        float[] l = Flatten(loss), c = Flatten(ce);
        for (int r = 0; r < 2; r++)
        {
            double[] z = ToDouble(Z[(3 * r)..(3 * r + 3)]), y = ToDouble(Y[(3 * r)..(3 * r + 3)]);
            Close(RefLoss(z, y, 2), l[r], 1e-6, 0, "poly");
            Close(RefLoss(z, y, 0), c[r], 1e-6, 0, "ce");
        }

        Tensor<float> seg = Tensor.Create(new float[2 * 4 * 3 * 3], [2, 4, 3, 3]);
        Tensor<int> pixels = Tensor.Create(new int[2 * 3 * 3], [2, 3, 3]);
        Tensor<float> perPixel = PolyTensor.CrossEntropy(seg, pixels, axis: 1);
        Assert.Equal([(nint)2, 3, 3], perPixel.Lengths.ToArray());
        Assert.All(Flatten(perPixel), v => Close(Math.Log(4) + 2 * 0.75, v, 1e-6, 0, "uniform"));

        Tensor<float> prior = Tensor.Create(new float[] { 0.7f, 0.2f, 0.1f }, [3]);
        Assert.Equal([(nint)2], PolyTensor.CrossEntropy(logits, prior).Lengths.ToArray());

        Tensor<float> grid = Tensor.Create(new float[4 * 2 * 3], [4, 2, 3]);
        Tensor<float> gridLoss = PolyTensor.CrossEntropy(grid, Tensor.Create(new[] { 0, 5, 3, 1 }, [4]), [1, 2]);
        Assert.All(Flatten(gridLoss), v => Close(Math.Log(6) + 2 * (5.0 / 6), v, 1e-6, 0, "grid"));

        Tensor<bool> where = Tensor.Create(new[] { true, true, false, false, false, false }, [2, 3]);
        float[] masked = Flatten(PolyTensor.CrossEntropy(logits, labels, where: where));
        Assert.Equal(0f, masked[1]);
        Close(RefLoss([2, 0.5], [1, 0], 2), masked[0], 1e-6, 0, "masked row 0");

        Tensor<int> targets = Tensor.Create(new[] { 0, 2 }, [2]);
        var options = new PolyLossOptions { Epsilon = 1, Weight = [1.0, 2.0, 0.5], Reduction = Reduction.Mean };
        Tensor<float> mean = PolyTensor.CrossEntropy(logits, targets, options);
        Assert.Equal([(nint)1], mean.Lengths.ToArray());
        double expectedMean = (1.0 * RefLoss([2, 0.5, -1], [1, 0, 0], 1) + 0.5 * RefLoss([0, 1, 3], [0, 0, 1], 1)) / 1.5;
        Close(expectedMean, Flatten(mean)[0], 1e-6, 0, "weighted mean");

        var (rowLoss, dLogits) = PolyTensor.CrossEntropyWithGradient(logits, targets);
        Assert.Equal(Flatten(PolyTensor.CrossEntropy(logits, targets)), Flatten(rowLoss));
        AllClose(RefGradient([2, 0.5, -1], [1, 0, 0], 2), D(Flatten(dLogits)[..3]), 1e-6, 1e-7);

        var result = PolyTensor.CrossEntropyWithGradient(logits, labels, computeLabelsGradient: true);
        Assert.Equal([(nint)2, 3], result.LabelsGradient!.Lengths.ToArray());

        Tensor<float> upstream = Tensor.Create(new[] { 0.5f, 2f }, [2]);
        var weighted = PolyTensor.CrossEntropyWithGradient(logits, targets, new PolyLossOptions(), upstream: upstream);
        float[] g1 = Flatten(dLogits), g2 = Flatten(weighted.LogitsGradient);
        for (int i = 0; i < 6; i++) Close((i < 3 ? 0.5 : 2) * g1[i], g2[i], 1e-6, 1e-7, $"upstream {i}");
    }
}
