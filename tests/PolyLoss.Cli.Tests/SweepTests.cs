using System.Text.Json;

namespace PolyLoss.Cli.Tests;

public sealed class SweepTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void MeanLossAndPolyShareMatchTheLibraryPerEpsilon()
    {
        const int rows = 500, c = 6;
        double[] z = Data.Logits(rows, c, 21);
        int[] t = Data.Targets(rows, c, 22);
        NpyFile.WriteF64(_dir.File("z.npy"), z, rows, c);
        NpyFile.WriteI32(_dir.File("t.npy"), t, rows);
        double[] eps = [-1, 0, 1, 2, 5];
        var (code, stdout, stderr) = Tool.Run("sweep", "--logits", _dir.File("z.npy"), "--targets", _dir.File("t.npy"), "--epsilons", "-1,0,1,2,5", "--json", "--chunk-rows", "64");
        Assert.True(code == 0, stderr);
        JsonElement j = JsonDocument.Parse(stdout).RootElement;
        double[] ce = new double[rows];
        Poly.CrossEntropy(z, t, ce, c, 0.0);
        Assert.Equal(ce.Average(), j.GetProperty("meanCrossEntropy").GetDouble(), 1e-12);
        JsonElement[] sweep = j.GetProperty("sweep").EnumerateArray().ToArray();
        Assert.Equal(eps.Length, sweep.Length);
        for (int i = 0; i < eps.Length; i++)
        {
            double[] l = new double[rows];
            Poly.CrossEntropy(z, t, l, c, eps[i]);
            Assert.Equal(eps[i], sweep[i].GetProperty("epsilon").GetDouble());
            Assert.Equal(l.Average(), sweep[i].GetProperty("meanLoss").GetDouble(), 1e-12);
            // Independent: the polynomial term is eps * mean(1 - p_t).
            double polyRef = eps[i] * Enumerable.Range(0, rows).Average(r => 1 - Reference.Softmax(z.AsSpan(r * c, c))[t[r]]);
            Assert.Equal(polyRef, sweep[i].GetProperty("meanPolyTerm").GetDouble(), 1e-10);
            if (eps[i] != 0) Assert.Equal(polyRef / l.Average(), sweep[i].GetProperty("polyShare").GetDouble(), 1e-10);
            else Assert.Equal(0.0, sweep[i].GetProperty("polyShare").GetDouble(), 1e-12);
        }
    }

    [Fact]
    public void TextTableHasOneRowPerEpsilon()
    {
        NpyFile.WriteF32(_dir.File("z.npy"), Data.Logits(30, 3, 1).Select(v => (float)v).ToArray(), 30, 3);
        File.WriteAllText(_dir.File("t.csv"), string.Join("\n", Data.Targets(30, 3, 2)));
        var (code, stdout, _) = Tool.Run("sweep", "--logits", _dir.File("z.npy"), "--targets", _dir.File("t.csv"), "--epsilons", "0,2,-1");
        Assert.Equal(0, code);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.Contains("poly share", StringComparison.Ordinal));
        Assert.Equal(3, lines.Count(l => l.TrimEnd().EndsWith('%')));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("-1 ", StringComparison.Ordinal));
    }

    [Fact]
    public void DenseLabelsWork()
    {
        const int rows = 25, c = 4;
        double[] z = Data.Logits(rows, c, 3);
        double[] y = Data.SoftLabels(rows, c, 4);
        NpyFile.WriteF64(_dir.File("z.npy"), z, rows, c);
        NpyFile.WriteF64(_dir.File("y.npy"), y, rows, c);
        var (code, stdout, stderr) = Tool.Run("sweep", "--logits", _dir.File("z.npy"), "--labels", _dir.File("y.npy"), "--epsilons", "3", "--json");
        Assert.True(code == 0, stderr);
        double[] l = new double[rows];
        Poly.CrossEntropy(z, y, l, c, 3.0);
        Assert.Equal(l.Average(), JsonDocument.Parse(stdout).RootElement.GetProperty("sweep")[0].GetProperty("meanLoss").GetDouble(), 1e-12);
    }
}
