using System.Text.Json;

namespace PolyLoss.Cli.Tests;

public sealed class EvalTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static JsonElement Json(string s) => JsonDocument.Parse(s).RootElement;

    [Theory]
    [InlineData(2.0)]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    public void TargetsNpyMatchesLibraryAndReferences(double eps)
    {
        const int rows = 300, c = 5;
        double[] z = Data.Logits(rows, c, 1);
        int[] t = Data.Targets(rows, c, 2);
        NpyFile.WriteF64(_dir.File("z.npy"), z, rows, c);
        NpyFile.WriteI64(_dir.File("t.npy"), t.Select(x => (long)x).ToArray(), rows);
        var (code, stdout, stderr) = Tool.Run("eval", "--logits", _dir.File("z.npy"), "--targets", _dir.File("t.npy"),
            "--epsilon", eps.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", _dir.File("l.npy"), "--grad-out", _dir.File("g.npy"), "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);

        double[] libLoss = new double[rows];
        double[] libGrad = new double[rows * c];
        Poly.CrossEntropyWithGradient(z, t, libLoss, libGrad, c, eps);
        double[] libCe = new double[rows];
        Poly.CrossEntropy(z, t, libCe, c, 0.0);

        (string descr, long[] shape, double[] loss) = NpyFile.Read(_dir.File("l.npy"));
        Assert.Equal("<f8", descr);
        Assert.Equal([rows], shape);
        Assert.Equal(libLoss, loss);
        (_, long[] gshape, double[] grad) = NpyFile.Read(_dir.File("g.npy"));
        Assert.Equal([rows, c], gshape);
        Assert.Equal(libGrad, grad);

        // Independent reference for the loss and the gradient (finite differences of the summed loss).
        for (int r = 0; r < rows; r += 37)
        {
            Assert.Equal(Reference.Poly1(z.AsSpan(r * c, c), t[r], eps), loss[r], 1e-12);
            for (int k = 0; k < c; k++)
            {
                double[] zp = z.AsSpan(r * c, c).ToArray(), zm = z.AsSpan(r * c, c).ToArray();
                zp[k] += 1e-6;
                zm[k] -= 1e-6;
                double fd = (Reference.Poly1(zp, t[r], eps) - Reference.Poly1(zm, t[r], eps)) / 2e-6;
                Assert.Equal(fd, grad[r * c + k], 1e-7);
            }
        }

        JsonElement j = Json(stdout);
        Assert.Equal(rows, j.GetProperty("rows").GetInt32());
        Assert.Equal(c, j.GetProperty("classes").GetInt32());
        Assert.Equal(eps, j.GetProperty("epsilon").GetDouble());
        Assert.Equal(libLoss.Average(), j.GetProperty("meanLoss").GetDouble(), 1e-12);
        Assert.Equal(libLoss.Min(), j.GetProperty("minLoss").GetDouble());
        Assert.Equal(libLoss.Max(), j.GetProperty("maxLoss").GetDouble());
        Assert.Equal(libCe.Average(), j.GetProperty("meanCrossEntropy").GetDouble(), 1e-12);
        (double acc, double ece) = Reference.AccuracyEce(z, t, c);
        Assert.Equal(acc, j.GetProperty("accuracy").GetDouble(), 1e-12);
        Assert.Equal(ece, j.GetProperty("ece").GetDouble(), 1e-12);
        Assert.Equal(15, j.GetProperty("eceBins").GetInt32());
        if (eps == 0) Assert.Equal(j.GetProperty("meanLoss").GetDouble(), j.GetProperty("meanCrossEntropy").GetDouble(), 1e-15);
    }

    [Fact]
    public void ChunkedRunGivesTheSameOutputsAsOneChunk()
    {
        const int rows = 103, c = 4;
        double[] z = Data.Logits(rows, c, 3);
        int[] t = Data.Targets(rows, c, 4);
        NpyFile.WriteF32(_dir.File("z.npy"), z.Select(v => (float)v).ToArray(), rows, c);
        NpyFile.WriteI32(_dir.File("t.npy"), t, rows);
        var one = Tool.Run("eval", "--logits", _dir.File("z.npy"), "--targets", _dir.File("t.npy"), "--out", _dir.File("a.npy"), "--grad-out", _dir.File("ga.npy"), "--json");
        var many = Tool.Run("eval", "--logits", _dir.File("z.npy"), "--targets", _dir.File("t.npy"), "--out", _dir.File("b.npy"), "--grad-out", _dir.File("gb.npy"), "--json", "--chunk-rows", "10");
        Assert.Equal(0, one.Code);
        Assert.Equal(0, many.Code);
        Assert.Equal(File.ReadAllBytes(_dir.File("a.npy")), File.ReadAllBytes(_dir.File("b.npy")));
        Assert.Equal(File.ReadAllBytes(_dir.File("ga.npy")), File.ReadAllBytes(_dir.File("gb.npy")));
        Assert.Equal(Json(one.Out).GetProperty("meanLoss").GetDouble(), Json(many.Out).GetProperty("meanLoss").GetDouble(), 1e-12);
        Assert.Equal(Json(one.Out).GetProperty("ece").GetDouble(), Json(many.Out).GetProperty("ece").GetDouble(), 1e-12);

        // float32 logits: the library's float32 kernels score them and the outputs are float32.
        (string descr, _, double[] loss) = NpyFile.Read(_dir.File("a.npy"));
        Assert.Equal("<f4", descr);
        float[] zf = z.Select(v => (float)v).ToArray();
        float[] lib = new float[rows], libGrad = new float[rows * c];
        Poly.CrossEntropyWithGradient(zf, t, lib, libGrad, c, 2f);
        Assert.Equal(lib.Select(v => (double)v), loss);
        Assert.Equal(libGrad.Select(v => (double)v), NpyFile.Read(_dir.File("ga.npy")).Data);
        // ... and close to an independent double reference.
        for (int r = 0; r < rows; r++) Assert.Equal(Reference.Poly1(zf.AsSpan(r * c, c).ToArray().Select(v => (double)v).ToArray(), t[r], 2.0), loss[r], 1e-5);
    }

    [Fact]
    public void PrecisionOptionChoosesTheKernels()
    {
        const int rows = 20, c = 3;
        double[] z = Data.Logits(rows, c, 31);
        int[] t = Data.Targets(rows, c, 32);
        float[] zf = z.Select(v => (float)v).ToArray();
        NpyFile.WriteF32(_dir.File("z.npy"), zf, rows, c);
        NpyFile.WriteI32(_dir.File("t.npy"), t, rows);
        Assert.Equal(0, Tool.Run("eval", "--logits", _dir.File("z.npy"), "--targets", _dir.File("t.npy"), "--out", _dir.File("d.npy"), "--precision", "float64").Code);
        (string descr, _, double[] loss) = NpyFile.Read(_dir.File("d.npy"));
        Assert.Equal("<f8", descr);
        double[] lib = new double[rows];
        Poly.CrossEntropy(zf.Select(v => (double)v).ToArray(), t, lib, c, 2.0);
        Assert.Equal(lib, loss);

        NpyFile.WriteF64(_dir.File("z64.npy"), z, rows, c);
        Assert.Equal(0, Tool.Run("eval", "--logits", _dir.File("z64.npy"), "--targets", _dir.File("t.npy"), "--out", _dir.File("s.npy"), "--precision", "float32").Code);
        float[] libf = new float[rows];
        Poly.CrossEntropy(zf, t, libf, c, 2f);
        (descr, _, loss) = NpyFile.Read(_dir.File("s.npy"));
        Assert.Equal("<f4", descr);
        Assert.Equal(libf.Select(v => (double)v), loss);
        Assert.Equal(2, Tool.Run("eval", "--logits", _dir.File("z64.npy"), "--targets", _dir.File("t.npy"), "--precision", "half").Code);
    }

    [Fact]
    public void DenseLabelsCsvWithHeaderAndCsvOutputs()
    {
        const int rows = 40, c = 3;
        double[] z = Data.Logits(rows, c, 5);
        double[] y = Data.SoftLabels(rows, c, 6);
        CsvFile.Write(_dir.File("z.csv"), z, c, header: "logit_a,logit_b,logit_c");
        CsvFile.Write(_dir.File("y.csv"), y, c);
        var (code, stdout, stderr) = Tool.Run("eval", "--logits", _dir.File("z.csv"), "--labels", _dir.File("y.csv"), "--epsilon", "1",
            "--out", _dir.File("l.csv"), "--grad-out", _dir.File("g.csv"), "--json");
        Assert.True(code == 0, stderr);
        double[] lib = new double[rows], grad = new double[rows * c];
        Poly.CrossEntropyWithGradient(z, y, lib, grad, c, 1.0);
        Assert.Equal(lib, CsvFile.Read(_dir.File("l.csv")));
        Assert.Equal(grad, CsvFile.Read(_dir.File("g.csv")));
        // Accuracy for dense labels uses the argmax of the labels as the target.
        int[] argmax = Enumerable.Range(0, rows).Select(r => { var s = y.AsSpan(r * c, c).ToArray(); return Array.IndexOf(s, s.Max()); }).ToArray();
        (double acc, double ece) = Reference.AccuracyEce(z, argmax, c);
        JsonElement j = Json(stdout);
        Assert.Equal(acc, j.GetProperty("accuracy").GetDouble(), 1e-12);
        Assert.Equal(ece, j.GetProperty("ece").GetDouble(), 1e-12);
        Assert.Equal(lib.Average(), j.GetProperty("meanLoss").GetDouble(), 1e-12);
    }

    [Fact]
    public void CsvTargetsAndFloatIntegralTargetsAreAccepted()
    {
        const int rows = 20, c = 4;
        double[] z = Data.Logits(rows, c, 7);
        int[] t = Data.Targets(rows, c, 8);
        NpyFile.WriteF64(_dir.File("z.npy"), z, rows, c);
        File.WriteAllText(_dir.File("t.csv"), "label\n" + string.Join("\n", t) + "\n");
        NpyFile.WriteF32(_dir.File("tf.npy"), t.Select(v => (float)v).ToArray(), rows, 1);
        var a = Tool.Run("eval", "--logits", _dir.File("z.npy"), "--targets", _dir.File("t.csv"), "--json");
        var b = Tool.Run("eval", "--logits", _dir.File("z.npy"), "--targets", _dir.File("tf.npy"), "--json");
        Assert.True(a.Code == 0, a.Err);
        Assert.True(b.Code == 0, b.Err);
        double[] lib = new double[rows];
        Poly.CrossEntropy(z, t, lib, c, 2.0);
        Assert.Equal(lib.Average(), Json(a.Out).GetProperty("meanLoss").GetDouble(), 1e-12);
        Assert.Equal(lib.Average(), Json(b.Out).GetProperty("meanLoss").GetDouble(), 1e-12);
    }

    [Fact]
    public void CsvLogitsToNpyOutputsGetTheRowCountPatchedIn()
    {
        const int rows = 21, c = 3;
        double[] z = Data.Logits(rows, c, 41);
        int[] t = Data.Targets(rows, c, 42);
        CsvFile.Write(_dir.File("z.csv"), z, c);
        File.WriteAllText(_dir.File("t.csv"), string.Join("\r\n", t) + "\r\n");
        var r = Tool.Run("eval", "--logits", _dir.File("z.csv"), "--targets", _dir.File("t.csv"), "--out", _dir.File("l.npy"), "--grad-out", _dir.File("g.npy"), "--chunk-rows", "4");
        Assert.True(r.Code == 0, r.Err);
        double[] lib = new double[rows], grad = new double[rows * c];
        Poly.CrossEntropyWithGradient(z, t, lib, grad, c, 2.0);
        (string descr, long[] shape, double[] loss) = NpyFile.Read(_dir.File("l.npy"));
        Assert.Equal("<f8", descr);
        Assert.Equal([(long)rows], shape);
        Assert.Equal(lib, loss);
        (_, long[] gshape, double[] g) = NpyFile.Read(_dir.File("g.npy"));
        Assert.Equal([(long)rows, c], gshape);
        Assert.Equal(grad, g);
    }

    [Fact]
    public void ThreeDimensionalLogitsKeepTheirLeadingShape()
    {
        double[] z = Data.Logits(2 * 5, 3, 9);
        int[] t = Data.Targets(10, 3, 10);
        NpyFile.WriteF64(_dir.File("z.npy"), z, 2, 5, 3);
        NpyFile.WriteI64(_dir.File("t.npy"), t.Select(v => (long)v).ToArray(), 2, 5);
        var r = Tool.Run("eval", "--logits", _dir.File("z.npy"), "--targets", _dir.File("t.npy"), "--out", _dir.File("l.npy"), "--grad-out", _dir.File("g.npy"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal([2L, 5], NpyFile.Read(_dir.File("l.npy")).Shape);
        Assert.Equal([2L, 5, 3], NpyFile.Read(_dir.File("g.npy")).Shape);
    }

    [Fact]
    public void TextSummaryNamesTheNumbers()
    {
        double[] z = [2, 0, 0, 0, 2, 0, 0, 0, 2, 2, 0, 0];
        NpyFile.WriteF64(_dir.File("z.npy"), z, 4, 3);
        NpyFile.WriteI32(_dir.File("t.npy"), [0, 1, 2, 1], 4);
        var (code, stdout, _) = Tool.Run("eval", "--logits", _dir.File("z.npy"), "--targets", _dir.File("t.npy"));
        Assert.Equal(0, code);
        Assert.Contains("rows            4", stdout, StringComparison.Ordinal);
        Assert.Contains("classes         3", stdout, StringComparison.Ordinal);
        Assert.Contains("accuracy        0.75", stdout, StringComparison.Ordinal);
        Assert.Contains("ECE (15 bins)", stdout, StringComparison.Ordinal);
        Assert.Contains("cross entropy   mean", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void EceOfAHandExample()
    {
        // Two classes; confidences 0.9 (correct), 0.9 (wrong), 0.6 (correct): bins 13 -> |0.5 - 0.9|, 8 -> |1 - 0.6|.
        double l9 = Math.Log(9), l6 = Math.Log(1.5);
        double[] z = [l9, 0, l9, 0, 0, l6];
        NpyFile.WriteF64(_dir.File("z.npy"), z, 3, 2);
        NpyFile.WriteI32(_dir.File("t.npy"), [0, 1, 1], 3);
        var (code, stdout, _) = Tool.Run("eval", "--logits", _dir.File("z.npy"), "--targets", _dir.File("t.npy"), "--json");
        Assert.Equal(0, code);
        JsonElement j = Json(stdout);
        Assert.Equal(2.0 / 3, j.GetProperty("accuracy").GetDouble(), 1e-12);
        Assert.Equal((2.0 / 3) * 0.4 + (1.0 / 3) * 0.4, j.GetProperty("ece").GetDouble(), 1e-12);
    }

    [Fact]
    public void NaNLogitsWarnWithCountAndCarryOn()
    {
        const int rows = 10, c = 3;
        double[] z = Data.Logits(rows, c, 11);
        z[4] = double.NaN;
        z[5] = double.NaN;
        z[20] = double.NaN;
        int[] t = Data.Targets(rows, c, 12);
        NpyFile.WriteF64(_dir.File("z.npy"), z, rows, c);
        NpyFile.WriteI32(_dir.File("t.npy"), t, rows);
        var (code, stdout, stderr) = Tool.Run("eval", "--logits", _dir.File("z.npy"), "--targets", _dir.File("t.npy"), "--json", "--out", _dir.File("l.npy"));
        Assert.Equal(0, code);
        Assert.Contains("warning", stderr, StringComparison.Ordinal);
        Assert.Contains("3 NaN values", stderr, StringComparison.Ordinal);
        Assert.Contains("z.npy", stderr, StringComparison.Ordinal);
        JsonElement j = Json(stdout);
        Assert.Equal(rows, j.GetProperty("rows").GetInt32());
        Assert.Equal(rows - 2, j.GetProperty("scoredRows").GetInt32()); // rows 1 and 6 have NaN
        double[] loss = NpyFile.Read(_dir.File("l.npy")).Data;
        Assert.True(double.IsNaN(loss[1]) && double.IsNaN(loss[6]));
        double[] lib = new double[rows];
        Poly.CrossEntropy(z, t, lib, c, 2.0);
        Assert.Equal(lib.Where(v => !double.IsNaN(v)).Average(), j.GetProperty("meanLoss").GetDouble(), 1e-12);
    }

    [Fact]
    public void NaNTargetsWarnAndGetNaNLossAndZeroGradient()
    {
        double[] z = Data.Logits(4, 3, 13);
        NpyFile.WriteF64(_dir.File("z.npy"), z, 4, 3);
        NpyFile.WriteF64(_dir.File("t.npy"), [0, double.NaN, 2, 1], 4);
        var (code, stdout, stderr) = Tool.Run("eval", "--logits", _dir.File("z.npy"), "--targets", _dir.File("t.npy"), "--json", "--out", _dir.File("l.npy"), "--grad-out", _dir.File("g.npy"));
        Assert.Equal(0, code);
        Assert.Contains("1 NaN targets", stderr, StringComparison.Ordinal);
        Assert.Equal(3, Json(stdout).GetProperty("scoredRows").GetInt32());
        Assert.True(double.IsNaN(NpyFile.Read(_dir.File("l.npy")).Data[1]));
        Assert.Equal(new double[3], NpyFile.Read(_dir.File("g.npy")).Data.AsSpan(3, 3).ToArray());
    }

    [Fact]
    public void OverwritesAnExistingOutputOnlyOnSuccess()
    {
        NpyFile.WriteF64(_dir.File("z.npy"), Data.Logits(5, 2, 1), 5, 2);
        NpyFile.WriteI32(_dir.File("t.npy"), [0, 1, 0, 1, 0], 5);
        File.WriteAllText(_dir.File("l.csv"), "old");
        Assert.Equal(0, Tool.Run("eval", "--logits", _dir.File("z.npy"), "--targets", _dir.File("t.npy"), "--out", _dir.File("l.csv")).Code);
        Assert.Equal(5, CsvFile.Read(_dir.File("l.csv")).Length);
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
    }
}
