using System.Numerics.Tensors;

namespace PolyLoss.Tests;

/// <summary>The README's C# examples, verbatim, with their results checked, so the README cannot rot.</summary>
public class ReadmeExamplesTests
{
    [Fact]
    public void Library_examples_run_and_give_the_closed_forms()
    {
        const int numClasses = 3;
        float[] logits = [2.0f, 1.0f, 0.1f,      // row 0
                          0.5f, 2.5f, -1.0f];    // row 1
        int[] targets = [0, 1];
        var losses = new float[2];

        Poly.CrossEntropy(logits, targets, losses, numClasses);                 // Poly-1, epsilon = 2
        double s0 = Math.Exp(2) + Math.Exp(1) + Math.Exp(0.1f);
        Assert.Equal(-Math.Log(Math.Exp(2) / s0) + 2 * (1 - Math.Exp(2) / s0), losses[0], 1e-6);
        Poly.CrossEntropy(logits, [1f, 0, 0, 0.1f, 0.8f, 0.1f], losses, numClasses, epsilon: -1f);   // dense labels

        var gradient = new float[logits.Length];                                // d(sum of row losses) / d logits
        Poly.CrossEntropyWithGradient(logits, targets, losses, gradient, numClasses);
        Assert.Equal(0.0, gradient.Take(3).Sum(), 1e-6); // softmax gradients sum to 0 per row

        var options = new PolyLossOptions
        {
            Epsilon = 2,
            Weight = [1.0, 2.0, 0.5],
            IgnoreIndex = -100,
            LabelSmoothing = 0.1,
            Reduction = Reduction.Mean,
        };
        var mean = new float[1];
        Poly.CrossEntropyWithGradient(logits, [0, -100], mean, gradient, numClasses, options);
        Assert.Equal([0f, 0f, 0f], gradient[3..]);

        var polyN = new PolyLossOptions { Coefficients = [2.0, 0.5, -0.1] };
        Poly.CrossEntropyWithGradient(logits, targets, losses, gradient, numClasses, polyN);
        Assert.All(losses, l => Assert.True(float.IsFinite(l) && l > 0));

        float[] detLogits = [2.1f, -3.0f, 0.4f, -1.2f];
        float[] detTargets = [1f, 0f, 0f, 1f];
        var focal = new FocalOptions { Gamma = 2, Alpha = 0.25, Epsilon = -1, Reduction = Reduction.Sum };
        var total = new float[1];
        var dx = new float[detLogits.Length];
        Poly.SigmoidFocal(detLogits, detTargets, total, focal, dx);
        Poly.SoftmaxFocal(logits, targets, losses, numClasses, FocalOptions.Default, gradient);
        double expected = 0;
        for (int i = 0; i < detLogits.Length; i++)
        {
            double p = 1 / (1 + Math.Exp(-detLogits[i])), t = detTargets[i];
            double pt = t * p + (1 - t) * (1 - p), alphaT = 0.25 * t + 0.75 * (1 - t);
            expected += alphaT * Math.Pow(1 - pt, 2) * -Math.Log(pt) - Math.Pow(1 - pt, 3);
        }
        Assert.Equal(expected, total[0], 1e-6);
    }

    [Fact]
    public void Tensor_examples_run_with_the_documented_shapes()
    {
        Tensor<float> logitsTensor = Tensor.Create(new float[] { 2f, 0.5f, -1f, 0f, 1f, 3f }, [2, 3]);
        Tensor<float> labelsTensor = Tensor.Create(new float[] { 1f, 0f, 0f, 0f, 0f, 1f }, [2, 3]);
        Tensor<float> loss = PolyTensor.CrossEntropy(logitsTensor, labelsTensor);
        var (l, dLogits) = PolyTensor.CrossEntropyWithGradient(logitsTensor, labelsTensor, epsilon: -1);

        Tensor<float> nchw = Tensor.Create(new float[2 * 4 * 3 * 3], [2, 4, 3, 3]);
        Tensor<int> pixels = Tensor.Create(new int[2 * 3 * 3], [2, 3, 3]);
        Tensor<float> perPixel = PolyTensor.CrossEntropy(nchw, pixels, axis: 1);

        Assert.Equal([2], loss.Lengths.ToArray());
        Assert.Equal([2], l.Lengths.ToArray());
        Assert.Equal([2, 3], dLogits.Lengths.ToArray());
        Assert.Equal([2, 3, 3], perPixel.Lengths.ToArray());
        // All-zero logits over 4 classes: -log(1/4) + 2 * 3/4 everywhere.
        Assert.All(perPixel.ToArray(), v => Assert.Equal(Math.Log(4) + 1.5, v, 1e-6));
    }
}
