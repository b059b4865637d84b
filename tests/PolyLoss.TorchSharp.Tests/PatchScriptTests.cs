using System.Diagnostics;
using System.IO.Compression;

namespace PolyLoss.TorchSharp.Tests;

/// <summary>scripts/patch_elf_weak.py on a pristine copy of libLibTorchSharp.so taken from the .nupkg.</summary>
public class PatchScriptTests
{
    private const string Version = "GLIBCXX_3.4.32";

    [Fact]
    public void PatchMarksOnlyTheGlibcxxRequirementWeakAndIsIdempotent()
    {
        if (!OperatingSystem.IsLinux()) return; // the fix-up concerns the Linux native library only

        string repo = RepositoryRoot();
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string nupkg = Path.Combine(packages, "torchsharp", "0.107.0", "torchsharp.0.107.0.nupkg");
        Assert.True(File.Exists(nupkg), $"{nupkg} not found");

        string dir = Directory.CreateTempSubdirectory("polyloss-patch-").FullName;
        try
        {
            string lib = Path.Combine(dir, "libLibTorchSharp.so");
            using (ZipArchive zip = ZipFile.OpenRead(nupkg))
                zip.GetEntry("runtimes/linux-x64/native/libLibTorchSharp.so")!.ExtractToFile(lib);
            byte[] before = File.ReadAllBytes(lib);
            string script = Path.Combine(repo, "scripts", "patch_elf_weak.py");

            Assert.Equal("strong", Run(script, "status", lib));
            Assert.Equal("patched", Run(script, "weaken", lib));
            Assert.Equal("weak", Run(script, "status", lib));
            Assert.Equal("already-weak", Run(script, "weaken", lib));
            Assert.Equal("absent", Run(script, "status", lib, "GLIBCXX_99.0"));

            byte[] after = File.ReadAllBytes(lib);
            Assert.Equal(before.Length, after.Length);
            int[] changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToArray();
            int offset = Assert.Single(changed);
            Assert.Equal(0x2, before[offset] ^ after[offset]); // VER_FLG_WEAK, low byte of vna_flags
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Run(string script, string command, string lib, string version = Version)
    {
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { script, command, lib, version }) psi.ArgumentList.Add(a);
        using Process proc = Process.Start(psi)!;
        string output = proc.StandardOutput.ReadToEnd().Trim();
        string error = proc.StandardError.ReadToEnd();
        proc.WaitForExit();
        Assert.True(proc.ExitCode is 0 or 3, $"python3 {command} exited with {proc.ExitCode}: {error}");
        return output;
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "PolyLoss.slnx"))) return d.FullName;
        throw new InvalidOperationException("PolyLoss.slnx not found above " + AppContext.BaseDirectory);
    }
}
