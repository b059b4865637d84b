namespace PolyLoss.Tests.Focal;

/// <summary>The example of docs/focal.md, as written there.</summary>
public class FocalDocsExampleTests
{
    [Fact]
    public void Docs_example_runs_and_gives_finite_results()
    {
        // Detection head: 4 anchors x 3 classes, multi-label targets.
        float[] logits  = [2.1f, -3.0f, 0.4f,  -1.2f, 5.0f, -7.5f,  0.0f, 0.3f, -2.2f,  -4.0f, -4.0f, 1.0f];
        float[] targets = [1, 0, 0,  0, 1, 0,  0, 0, 0,  0, 0, 1];
        var options = new FocalOptions { Gamma = 2, Alpha = 0.25, Epsilon = -1, Reduction = Reduction.Sum };

        var loss = new float[1];
        var grad = new float[logits.Length];            // d loss / d logits
        Poly.SigmoidFocal(logits, targets, loss, options, grad);

        // Classification: 2 rows x 3 classes, integer targets.
        double[] z = [2.0, 1.0, 0.1,  -0.5, 0.0, 3.0];
        var rowLosses = new double[2];
        var dz = new double[6];
        Poly.SoftmaxFocal(z, [0, 2], rowLosses, numClasses: 3, FocalOptions.Default, dz);

        Assert.True(float.IsFinite(loss[0]));
        Assert.All(grad, g => Assert.True(float.IsFinite(g)));
        Assert.All(rowLosses, l => Assert.True(l > 0));
        Assert.Equal(0.0, dz[0] + dz[1] + dz[2], 1e-15);
    }
}
