using System.Diagnostics;

namespace PolyLoss.Cli.Tests;

/// <summary>Runs the built tool as a real process (dotnet PolyLoss.Cli.dll), as a user would.</summary>
public sealed class ProcessTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int Code, string Out, string Err) Spawn(string workDir, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "PolyLoss.Cli.dll");
        Assert.True(File.Exists(dll), dll);
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workDir,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        p.StandardInput.Close();
        Task<string> o = p.StandardOutput.ReadToEndAsync(), e = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, o.Result, e.Result);
    }

    [Fact]
    public void EvalAsAProcessWritesOutputsAndExitsZero()
    {
        double[] z = Data.Logits(50, 4, 1);
        int[] t = Data.Targets(50, 4, 2);
        NpyFile.WriteF64(_dir.File("z.npy"), z, 50, 4);
        File.WriteAllText(_dir.File("t.csv"), string.Join("\n", t) + "\n");
        var (code, stdout, stderr) = Spawn(_dir.Path, "eval", "--logits", "z.npy", "--targets", "t.csv", "--out", "l.npy", "--epsilon", "2");
        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr); // not a terminal: no progress bar
        Assert.Contains("accuracy", stdout, StringComparison.Ordinal);
        double[] lib = new double[50];
        Poly.CrossEntropy(z, t, lib, 4, 2.0);
        Assert.Equal(lib, NpyFile.Read(_dir.File("l.npy")).Data);
    }

    [Fact]
    public void BadInputAsAProcessGivesOneLineAndExitCodeOne()
    {
        NpyFile.Write(_dir.File("be.npy"), ">f4", [3, 2], new byte[24]);
        File.WriteAllText(_dir.File("t.csv"), "0\n1\n0\n");
        var (code, stdout, stderr) = Spawn(_dir.Path, "eval", "--logits", "be.npy", "--targets", "t.csv");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("be.npy: big-endian", stderr, StringComparison.Ordinal);

        var usage = Spawn(_dir.Path, "eval", "--logits");
        Assert.Equal(2, usage.Code);
        Assert.DoesNotContain("   at ", usage.Err, StringComparison.Ordinal);
    }
}
