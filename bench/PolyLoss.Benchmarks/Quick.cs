using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace PolyLoss.Benchmarks;

/// <summary>
/// <c>quick</c>: a few seconds per case, every method timed in interleaved rounds with a Stopwatch (so that machine
/// noise hits all of them alike), median per method, then the ratio table and the targets. For iterating on kernels;
/// the numbers for the record come from the BenchmarkDotNet run.
/// </summary>
public static partial class Quick
{
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    public static int Run(string[] args)
    {
        // LibTorch's OpenMP threads spin after every parallel region (GNU OpenMP's default wait policy) and take a core
        // from whatever runs next in the process: here the method timed after a LibTorch one. PASSIVE makes them sleep.
        // Must reach the native environment before LibTorch loads (Environment.SetEnvironmentVariable does not on Unix).
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null && !OperatingSystem.IsWindows())
            SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0);
        double seconds = 1.0;
        bool torch = true;
        var cases = new List<Case>();
        string[]? methods = null;
        bool exact = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--time": seconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--no-torch": torch = false; break;
                case "--case": cases.Add(Case.Parse(args[++i])); break;
                case "--methods": methods = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--exact": exact = true; break;
                case "--threads":
                    Workload.LibraryOptions = new PolyLoss.PolyLossOptions
                    {
                        Epsilon = Workload.Epsilon, MaxDegreeOfParallelism = int.Parse(args[++i], CultureInfo.InvariantCulture),
                    };
                    break;
                case "-h" or "--help":
                    Console.WriteLine("quick [--time SECONDS_PER_CASE (1)] [--no-torch] [--case \"4096x1000 int f32\"]... [--methods Poly,Poly_Grad,...] [--exact] [--threads N]");
                    Console.WriteLine("  --exact: only the listed methods (by default the bounds and the library are added, for the ratios)");
                    Console.WriteLine("  --threads N: the library's calls capped at N threads (the bounds, Exp and LibTorch keep 2): per-core kernel timing");
                    Console.WriteLine("cases: " + string.Join(" | ", Case.All()));
                    Console.WriteLine("methods: " + string.Join(",", Names.Forward.Concat(Names.ForwardBackward)));
                    return 0;
                default: Console.Error.WriteLine($"unknown argument {args[i]} (try quick --help)"); return 2;
            }
        }
        if (cases.Count == 0) cases.AddRange(Case.All());
        var all = Names.Forward.Concat(Names.ForwardBackward).ToArray();
        var selected = (methods ?? all).Where(m => torch || !Names.IsTorch(m)).ToList();
        // The ratios need the bounds and the library.
        if (!exact)
            foreach (var m in new[] { Names.BoundRead, Names.Poly, Names.BoundReadWrite, Names.PolyGrad })
                if (!selected.Contains(m)) selected.Add(m);
        selected = all.Where(selected.Contains).ToList();

        var results = new Dictionary<(string Case, string Method), double>();
        var allocs = new Dictionary<(string Case, string Method), long>();
        Console.WriteLine($"quick: {Environment.ProcessorCount} cores, {seconds:0.##} s per case, interleaved rounds, median of per-call times");
        foreach (var c in cases)
        {
            using var w = Workload.Create(c);
            if (torch) w.SetupTorch();
            Console.WriteLine($"{c}: inputs {c.InputBytes / 1048576.0:0.0} MiB; check {w.Validate(torch)}");
            var ops = selected.Select(m => (Method: m, Op: w.Get(m))).ToArray();
            var samples = ops.Select(_ => new List<double>()).ToArray();
            var reps = new int[ops.Length];
            for (int k = 0; k < ops.Length; k++)
            {
                ops[k].Op(); ops[k].Op(); // warm up (JIT tiers, page faults)
                var sw = Stopwatch.StartNew();
                ops[k].Op();
                double t = sw.Elapsed.TotalSeconds;
                reps[k] = (int)Math.Clamp(Math.Ceiling(0.005 / Math.Max(t, 1e-9)), 1, 10000); // >= ~5 ms per sample
            }
            var budget = Stopwatch.StartNew();
            for (int round = 0; round < 5 || budget.Elapsed.TotalSeconds < seconds; round++)
            {
                if (round >= 200) break;
                for (int j = 0; j < ops.Length; j++)
                {
                    int k = (j + round) % ops.Length; // rotate the order each round
                    // One untimed call first, so that a sample sees the method's data in cache and the worker threads
                    // awake, as back-to-back calls do (the BenchmarkDotNet regime), not the previous method's leftovers.
                    ops[k].Op();
                    var sw = Stopwatch.StartNew();
                    for (int i = 0; i < reps[k]; i++) ops[k].Op();
                    samples[k].Add(sw.Elapsed.TotalNanoseconds / reps[k]);
                }
            }
            for (int k = 0; k < ops.Length; k++)
            {
                var key = (c.ToString(), ops[k].Method);
                results[key] = Median(samples[k]);
                // Managed bytes allocated per call on all threads (the library's worker thread included).
                long before = GC.GetTotalAllocatedBytes(precise: true);
                ops[k].Op();
                long after = GC.GetTotalAllocatedBytes(precise: true);
                allocs[key] = after - before;
            }
        }

        Console.WriteLine();
        Console.WriteLine("| case | category | method | median | / bound | xLib | xF32 | alloc/call |");
        Console.WriteLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var c in cases)
        {
            foreach (var m in selected)
            {
                if (!results.TryGetValue((c.ToString(), m), out double t)) continue;
                string cat = Names.Category(m);
                string R(double? other) => other is double o && o > 0 ? Fmt(t / o) : "-";
                double? Get(Case cc, string mm) => results.TryGetValue((cc.ToString(), mm), out double v) ? v : null;
                Console.WriteLine($"| {c} | {cat} | {m} | {Time(t)} | {R(Get(c, Names.Bound(cat)))} | {R(Get(c, Names.Library(cat)))} | {(c.Double ? R(Get(c.AsFloat32, m)) : "-")} | {allocs[(c.ToString(), m)]} B |");
            }
        }
        Console.WriteLine();
        Console.WriteLine(Targets.ToMarkdown(Targets.Evaluate((c, m) => results.TryGetValue((c, m), out double v) ? v : null)));
        return 0;
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    public static string Fmt(double r) => r.ToString(r >= 100 ? "0" : "0.00", CultureInfo.InvariantCulture);

    public static string Time(double ns) => ns switch
    {
        >= 1e6 => (ns / 1e6).ToString("0.000", CultureInfo.InvariantCulture) + " ms",
        >= 1e3 => (ns / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + " us",
        _ => ns.ToString("0", CultureInfo.InvariantCulture) + " ns",
    };
}
