
namespace PolyLoss.Cli.Tests;

/// <summary>Every bad input gives exit code 1 (data) or 2 (usage), one line on stderr naming the file and the problem,
/// no stack trace, nothing on stdout and no output file (not even a temporary one).</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TempDir _dir = new();

    public BadInputTests()
    {
        NpyFile.WriteF64(_dir.File("z.npy"), Data.Logits(6, 3, 1), 6, 3);
        NpyFile.WriteI32(_dir.File("t.npy"), [0, 1, 2, 0, 1, 2], 6);
    }

    public void Dispose() => _dir.Dispose();

    private string Z => _dir.File("z.npy");

    private string T => _dir.File("t.npy");

    private void AssertFails(int expectedCode, string[] mustContain, params string[] args)
    {
        var (code, stdout, stderr) = Tool.Run(args);
        Assert.Equal(expectedCode, code);
        Assert.Equal("", stdout);
        string first = stderr.Split('\n')[0];
        Assert.StartsWith("polyloss: error: ", first, StringComparison.Ordinal);
        foreach (string s in mustContain) Assert.Contains(s, first, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("out.npy")), "no output on failure");
        Assert.False(File.Exists(_dir.File("grad.npy")), "no gradient output on failure");
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
    }

    private string[] Eval(string logits, string targets) =>
        ["eval", "--logits", logits, "--targets", targets, "--out", _dir.File("out.npy"), "--grad-out", _dir.File("grad.npy")];

    [Fact]
    public void MissingFile() => AssertFails(1, ["nope.npy", "file not found"], Eval(_dir.File("nope.npy"), T));

    [Fact]
    public void MissingTargetsFile() => AssertFails(1, ["missing.csv", "file not found"], Eval(Z, _dir.File("missing.csv")));

    [Fact]
    public void TruncatedHeader()
    {
        byte[] full = NpyFile.Header("<f8", [6, 3]);
        File.WriteAllBytes(_dir.File("trunc.npy"), full[..40]);
        AssertFails(1, ["trunc.npy", "truncated .npy header"], Eval(_dir.File("trunc.npy"), T));
        File.WriteAllBytes(_dir.File("tiny.npy"), full[..4]);
        AssertFails(1, ["tiny.npy", "truncated .npy header"], Eval(_dir.File("tiny.npy"), T));
    }

    [Fact]
    public void CorruptHeader()
    {
        File.WriteAllBytes(_dir.File("bad.npy"), NpyFile.Header("", [], rawDict: "{'descr': '<f8', 'fortran_order': False, 'shape': (6, 3 }"));
        AssertFails(1, ["bad.npy", "corrupt .npy header"], Eval(_dir.File("bad.npy"), T));
        File.WriteAllBytes(_dir.File("nokeys.npy"), NpyFile.Header("", [], rawDict: "{'descr': '<f8'}"));
        AssertFails(1, ["nokeys.npy", "corrupt .npy header"], Eval(_dir.File("nokeys.npy"), T));
        File.WriteAllText(_dir.File("text.npy"), "hello, this is not numpy");
        AssertFails(1, ["text.npy", "not a .npy file"], Eval(_dir.File("text.npy"), T));
        byte[] v9 = NpyFile.Header("<f8", [6, 3]);
        v9[6] = 9;
        File.WriteAllBytes(_dir.File("v9.npy"), v9);
        AssertFails(1, ["v9.npy", "unsupported .npy format version 9.0"], Eval(_dir.File("v9.npy"), T));
    }

    [Fact]
    public void TruncatedData()
    {
        NpyFile.Write(_dir.File("short.npy"), "<f8", [6, 3], new byte[8 * 17]);
        AssertFails(1, ["short.npy", "truncated data", "144 bytes", "136"], Eval(_dir.File("short.npy"), T));
    }

    [Fact]
    public void BigEndian()
    {
        NpyFile.Write(_dir.File("be.npy"), ">f8", [6, 3], new byte[8 * 18]);
        AssertFails(1, ["be.npy", "big-endian"], Eval(_dir.File("be.npy"), T));
    }

    [Fact]
    public void FortranOrder()
    {
        NpyFile.Write(_dir.File("f.npy"), "<f8", [6, 3], new byte[8 * 18], fortran: true);
        AssertFails(1, ["f.npy", "Fortran-order"], Eval(_dir.File("f.npy"), T));
    }

    [Fact]
    public void ObjectArray()
    {
        NpyFile.Write(_dir.File("o.npy"), "|O", [6, 3], new byte[40]);
        AssertFails(1, ["o.npy", "object arrays"], Eval(_dir.File("o.npy"), T));
    }

    [Fact]
    public void UnsupportedDtype()
    {
        NpyFile.Write(_dir.File("c.npy"), "<c16", [6, 3], new byte[16 * 18]);
        AssertFails(1, ["c.npy", "unsupported dtype '<c16'"], Eval(_dir.File("c.npy"), T));
        NpyFile.Write(_dir.File("b.npy"), "|b1", [6], new byte[6]);
        AssertFails(1, ["b.npy", "unsupported dtype '|b1'"], Eval(Z, _dir.File("b.npy")));
        NpyFile.Write(_dir.File("bi.npy"), ">i8", [6], new byte[48]);
        AssertFails(1, ["bi.npy", "big-endian"], Eval(Z, _dir.File("bi.npy")));
    }

    [Fact]
    public void OneDimensionalLogits()
    {
        NpyFile.WriteF64(_dir.File("v.npy"), [1, 2, 3], 3);
        AssertFails(1, ["v.npy", "expected a 2-D array"], Eval(_dir.File("v.npy"), T));
    }

    [Fact]
    public void RowCountMismatchNpy()
    {
        NpyFile.WriteI32(_dir.File("t5.npy"), [0, 1, 2, 0, 1], 5);
        AssertFails(1, ["row count mismatch", "z.npy has 6 rows", "t5.npy has 5"], Eval(Z, _dir.File("t5.npy")));
    }

    [Fact]
    public void RowCountMismatchCsvFoundWhileStreaming()
    {
        File.WriteAllText(_dir.File("t7.csv"), "0\n1\n2\n0\n1\n2\n0\n");
        // Small chunks so the first chunks' outputs are already written to the temporary files when the mismatch shows.
        AssertFails(1, ["row count mismatch", "z.npy has 6 rows", "t7.csv has 7"], [.. Eval(Z, _dir.File("t7.csv")), "--chunk-rows", "2"]);
        File.WriteAllText(_dir.File("z4.csv"), "1,2,3\n4,5,6\n1,1,1\n0,0,0\n");
        AssertFails(1, ["row count mismatch", "z4.csv has 4 rows", "t.npy has 6"], [.. Eval(_dir.File("z4.csv"), T), "--chunk-rows", "3"]);
    }

    [Fact]
    public void TargetOutOfRangeNamesRowAndValue()
    {
        NpyFile.WriteI64(_dir.File("bad_t.npy"), [0, 1, 2, 0, 7, 2], 6);
        AssertFails(1, ["bad_t.npy", "row 4", "target 7", "out of range", "3 classes"], [.. Eval(Z, _dir.File("bad_t.npy")), "--chunk-rows", "2"]);
        NpyFile.WriteI32(_dir.File("neg_t.npy"), [0, -1, 2, 0, 1, 2], 6);
        AssertFails(1, ["neg_t.npy", "row 1", "target -1", "out of range"], Eval(Z, _dir.File("neg_t.npy")));
    }

    [Fact]
    public void NonIntegralTarget()
    {
        NpyFile.WriteF64(_dir.File("frac.npy"), [0, 1, 2.5, 0, 1, 2], 6);
        AssertFails(1, ["frac.npy", "row 2", "target 2.5", "not an integer"], Eval(Z, _dir.File("frac.npy")));
    }

    [Fact]
    public void CsvCellThatIsNotANumberNamesLineAndColumn()
    {
        File.WriteAllText(_dir.File("z.csv"), "a,b,c\n1,2,3\n4,5,6\n1,x1,1\n0,0,0\n1,1,1\n2,2,2\n");
        AssertFails(1, ["z.csv", "line 4, column 2", "'x1' is not a number"], Eval(_dir.File("z.csv"), T));
        File.WriteAllText(_dir.File("t.csv"), "0\n1\ntwo\n0\n1\n2\n");
        AssertFails(1, ["t.csv", "line 3, column 1", "'two' is not a number"], Eval(Z, _dir.File("t.csv")));
    }

    [Fact]
    public void CsvRaggedRow()
    {
        File.WriteAllText(_dir.File("r.csv"), "1,2,3\n4,5\n");
        AssertFails(1, ["r.csv", "line 2", "2 columns, expected 3"], Eval(_dir.File("r.csv"), T));
    }

    [Fact]
    public void LabelsWithWrongColumnCount()
    {
        NpyFile.WriteF64(_dir.File("y.npy"), new double[12], 6, 2);
        AssertFails(1, ["y.npy", "2 columns", "3 classes"], ["eval", "--logits", Z, "--labels", _dir.File("y.npy"), "--out", _dir.File("out.npy")]);
    }

    [Fact]
    public void EmptyCsvLogits()
    {
        File.WriteAllText(_dir.File("e.csv"), "");
        AssertFails(1, ["e.csv", "empty"], Eval(_dir.File("e.csv"), T));
    }

    [Fact]
    public void RefusesToOverwriteAnInput()
    {
        byte[] before = File.ReadAllBytes(T);
        AssertFails(2, ["refusing to overwrite the input file", "t.npy"], "eval", "--logits", Z, "--targets", T, "--out", T);
        AssertFails(2, ["refusing to overwrite the input file"], "eval", "--logits", Z, "--targets", T, "--grad-out", Path.Combine(_dir.Path, ".", "z.npy"));
        Assert.Equal(before, File.ReadAllBytes(T));
    }

    [Fact]
    public void RefusesToOverwriteAnInputThroughASymlink()
    {
        string link = _dir.File("link.npy");
        File.CreateSymbolicLink(link, Z);
        AssertFails(2, ["refusing to overwrite the input file"], "eval", "--logits", Z, "--targets", T, "--out", link);
    }

    [Fact]
    public void UsageErrors()
    {
        AssertFails(2, ["--logits is required"], "eval", "--targets", T);
        AssertFails(2, ["--targets FILE", "--labels FILE"], "eval", "--logits", Z);
        AssertFails(2, ["not both"], "eval", "--logits", Z, "--targets", T, "--labels", T);
        AssertFails(2, ["unknown option --epsilom"], "eval", "--logits", Z, "--targets", T, "--epsilom", "2");
        AssertFails(2, ["--epsilon must be a finite number", "abc"], "eval", "--logits", Z, "--targets", T, "--epsilon", "abc");
        AssertFails(2, ["--epsilon needs a value"], "eval", "--logits", Z, "--targets", T, "--epsilon");
        AssertFails(2, ["must end in .npy or .csv"], "eval", "--logits", Z, "--targets", T, "--out", _dir.File("l.txt"));
        AssertFails(2, ["unknown command 'evaluate'"], "evaluate");
        AssertFails(2, ["--epsilons", "'1,,2'"], "sweep", "--logits", Z, "--targets", T, "--epsilons", "1,,2");
        AssertFails(2, ["same file as --out"], "eval", "--logits", Z, "--targets", T, "--out", _dir.File("o.npy"), "--grad-out", _dir.File("o.npy"));
    }

    [Fact]
    public void MissingOutputDirectory() =>
        AssertFails(1, ["no/such/dir", "does not exist"], "eval", "--logits", Z, "--targets", T, "--out", _dir.File("no/such/dir/l.npy"));

    [Fact]
    public void FailedRunLeavesAnExistingOutputUntouched()
    {
        File.WriteAllText(_dir.File("keep.csv"), "precious");
        NpyFile.WriteI64(_dir.File("bad_t.npy"), [0, 1, 2, 0, 9, 2], 6);
        var (code, _, _) = Tool.Run("eval", "--logits", Z, "--targets", _dir.File("bad_t.npy"), "--out", _dir.File("keep.csv"), "--chunk-rows", "1");
        Assert.Equal(1, code);
        Assert.Equal("precious", File.ReadAllText(_dir.File("keep.csv")));
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
    }

    [Fact]
    public void NoArgumentsPrintsUsageWithExitCode2()
    {
        var (code, stdout, _) = Tool.Run();
        Assert.Equal(2, code);
        Assert.Contains("polyloss eval", stdout, StringComparison.Ordinal);
        Assert.Equal(0, Tool.Run("--help").Code);
        Assert.Equal(0, Tool.Run("eval", "--help").Code);
    }

    [Fact]
    public void Utf8HeaderOfVersion3IsRead()
    {
        // Version 3.0 allows UTF-8 in the header; invalid UTF-8 is a corrupt header.
        byte[] h = NpyFile.Header("<f8", [6, 3], major: 3);
        byte[] bad = (byte[])h.Clone();
        int i = Array.LastIndexOf(bad, (byte)' ');
        bad[i] = 0xFF;
        File.WriteAllBytes(_dir.File("bad3.npy"), [.. bad, .. new byte[8 * 18]]);
        AssertFails(1, ["bad3.npy", "not valid UTF-8"], Eval(_dir.File("bad3.npy"), T));
        File.WriteAllBytes(_dir.File("ok3.npy"), [.. h, .. new byte[8 * 18]]);
        Assert.Equal(0, Tool.Run("eval", "--logits", _dir.File("ok3.npy"), "--targets", T).Code);
    }
}
