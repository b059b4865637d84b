using System.Text.Json;
using PolyLoss.Cli.Demo;

namespace PolyLoss.Cli.Tests;

public sealed class DemoTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void EmbeddedDataHasTheDocumentedShape()
    {
        Dataset train = OptDigits.Train(), test = OptDigits.Test();
        Assert.Equal(3823, train.Rows);
        Assert.Equal(1797, test.Rows);
        Assert.Equal(64, train.Features);
        Assert.All(train.X, v => Assert.InRange(v, 0f, 1f));
        Assert.All(train.ClassCounts(), n => Assert.InRange(n, 350, 400));
        // First row of optdigits.tra: 0,1,6,15,12,1,0,0,... label 0.
        Assert.Equal(1 / 16f, train.X[1]);
        Assert.Equal(15 / 16f, train.X[3]);
        Assert.Equal(0, train.Y[0]);
    }

    [Fact]
    public void LongTailedSubsetFollowsTheRatio()
    {
        Dataset train = OptDigits.Train();
        int[] full = train.ClassCounts();
        int[] lt = train.LongTailed(100).ClassCounts();
        Assert.Equal(full[0], lt[0]);
        for (int k = 0; k < 10; k++)
            Assert.Equal(Math.Max(1, (int)Math.Round(full[k] * Math.Pow(100, -k / 9.0))), lt[k]);
        Assert.True(lt[9] < lt[0] / 50);
    }

    [Fact]
    public void MlpBackpropMatchesFiniteDifferences()
    {
        // The demo's own backward pass (the library supplies the logits gradient) checked numerically in double.
        var rng = new Random(3);
        const int rows = 4, inputs = 5, hidden = 6, classes = 3;
        var net = new Mlp(inputs, hidden, classes, rng, 1e-3f);
        float[] x = Enumerable.Range(0, rows * inputs).Select(_ => (float)rng.NextDouble()).ToArray();
        int[] y = [0, 2, 1, 2];
        double Loss()
        {
            float[] h = new float[rows * hidden], z = new float[rows * classes];
            net.Forward(x, rows, h, z);
            double s = 0;
            for (int r = 0; r < rows; r++) s += Reference.Poly1(z.AsSpan(r * classes, classes).ToArray().Select(v => (double)v).ToArray(), y[r], 2.0);
            return s / rows;
        }
        float[] hid = new float[rows * hidden], logits = new float[rows * classes], grad = new float[rows * classes];
        net.Forward(x, rows, hid, logits);
        Kernels.MeanLossAndGradient(logits, y, grad, classes, Kernels.MeanSingleThreaded(2.0));
        net.Backward(x, rows, hid, grad, new float[rows * hidden]);
        float[][] ps = net.Parameters, gs = net.Gradients;
        int checkedCount = 0;
        for (int k = 0; k < ps.Length; k++)
        {
            for (int i = 0; i < ps[k].Length; i++)
            {
                float keep = ps[k][i];
                const float h = 1e-3f;
                ps[k][i] = keep + h;
                double up = Loss();
                ps[k][i] = keep - h;
                double down = Loss();
                ps[k][i] = keep;
                double fd = (up - down) / (2 * h);
                Assert.True(Math.Abs(fd - gs[k][i]) < 2e-3 + 2e-2 * Math.Abs(fd), $"param {k}[{i}]: finite difference {fd}, backprop {gs[k][i]}");
                checkedCount++;
            }
        }
        Assert.Equal(inputs * hidden + hidden + hidden * classes + classes, checkedCount);
    }

    [Fact]
    public void ShortDemoRunsWritesAPngAndReportsEveryEpsilon()
    {
        string png = _dir.File("d.png");
        var (code, stdout, stderr) = Tool.Run("demo", "--seeds", "2", "--epochs", "2", "--epsilons", "0,2", "--plot", png, "--json");
        Assert.True(code == 0, stderr);
        byte[] head = File.ReadAllBytes(png)[..8];
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, head);
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp*"));
        JsonElement j = JsonDocument.Parse(stdout).RootElement;
        JsonElement[] results = j.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal([0.0, 2.0], results.Select(r => r.GetProperty("epsilon").GetDouble()));
        foreach (JsonElement r in results)
        {
            double[] acc = r.GetProperty("accuracy").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.Equal(2, acc.Length);
            Assert.Equal(acc.Average(), r.GetProperty("accuracyMean").GetDouble(), 1e-12);
            Assert.All(acc, a => Assert.InRange(a, 0.5, 1.0)); // two epochs already learn the digits
            Assert.InRange(r.GetProperty("eceMean").GetDouble(), 0, 1);
        }
    }

    [Fact]
    public void DemoIsDeterministicForFixedSeeds()
    {
        var a = Tool.Run("demo", "--seeds", "1", "--epochs", "1", "--epsilons", "1", "--no-plot", "--json", "--imbalanced");
        var b = Tool.Run("demo", "--seeds", "1", "--epochs", "1", "--epsilons", "1", "--no-plot", "--json", "--imbalanced", "--threads", "1");
        Assert.Equal(0, a.Code);
        JsonElement ra = JsonDocument.Parse(a.Out).RootElement, rb = JsonDocument.Parse(b.Out).RootElement;
        Assert.True(ra.GetProperty("imbalanced").GetBoolean());
        Assert.Equal(ra.GetProperty("results")[0].GetProperty("accuracyMean").GetDouble(), rb.GetProperty("results")[0].GetProperty("accuracyMean").GetDouble());
        Assert.Equal(ra.GetProperty("results")[0].GetProperty("eceMean").GetDouble(), rb.GetProperty("results")[0].GetProperty("eceMean").GetDouble());
    }

    [Fact]
    public void DemoUsageErrors()
    {
        Assert.Equal(2, Tool.Run("demo", "--plot", _dir.File("x.jpg")).Code);
        Assert.Equal(2, Tool.Run("demo", "--plot", _dir.File("x.png"), "--no-plot").Code);
        Assert.Equal(2, Tool.Run("demo", "--seeds", "0").Code);
        Assert.Equal(2, Tool.Run("demo", "--imbalance-ratio", "0.5").Code);
    }
}
