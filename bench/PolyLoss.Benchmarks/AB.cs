using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;

namespace PolyLoss.Benchmarks;

/// <summary>
/// <c>ab</c>: this build's float32 kernels against another build of PolyLoss.dll (say, a worktree at an older commit),
/// both loaded in this process (the other in an <see cref="AssemblyLoadContext"/> of its own) and timed in alternating
/// slices, so that the machine's drifts (on a shared machine one core can run a third slower than the other for
/// minutes) hit both alike. Prints per case and category the median time of each build and the median and geometric
/// mean of the paired ratios other / this. For kernel work, not a test. The calls are the span entry points with their
/// defaults (eps 2, all cores); pin the process (<c>taskset -c 0</c>) for one thread.
/// </summary>
public static unsafe class AB
{
    public static int Run(string[] args)
    {
        string? other = null;
        var cases = new List<Case>();
        int rounds = 15;
        double seconds = 0.1;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--other": other = args[++i]; break;
                case "--case": cases.Add(Case.Parse(args[++i])); break;
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--slice": seconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine("ab --other PATH/TO/PolyLoss.dll [--case \"4096x1000 int\"]... [--rounds 15] [--slice 0.1]   (float32 cases)");
                    return 2;
            }
        }
        if (other is null || !File.Exists(other))
        {
            Console.Error.WriteLine($"ab: --other must name a built PolyLoss.dll ({(other is null ? "missing" : $"'{other}' not found")}).");
            return 2;
        }
        if (cases.Count == 0) cases.AddRange(Case.All().Where(c => !c.Double));
        if (cases.Any(c => c.Double)) { Console.Error.WriteLine("ab: float32 cases only."); return 2; }

        Assembly mine = typeof(Poly).Assembly;
        Assembly theirs = new AssemblyLoadContext("other build", isCollectible: false).LoadFromAssemblyPath(Path.GetFullPath(other));
        Console.WriteLine($"this: {mine.Location}\nother: {theirs.Location}\n{rounds} rounds of {seconds} s slices per build, alternating (one thread per core: {Environment.ProcessorCount})");
        Console.WriteLine("| case | category | this (median) | other (median) | other / this: median | geometric mean | outputs |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | --- |");
        foreach (Case c in cases)
            foreach (bool grad in new[] { false, true })
                RunCase(c, grad, Entry.Of(mine, c.Dense, grad), Entry.Of(theirs, c.Dense, grad), rounds, seconds);
        return 0;
    }

    private static void RunCase(Case c, bool grad, Entry a, Entry b, int rounds, double seconds)
    {
        var rng = new Random(12345);
        int n = c.Rows, k = c.Classes;
        var z = new float[c.Elements];
        for (int i = 0; i < z.Length; i++) z[i] = (float)(3 * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        var t = new int[n];
        var y = new float[c.Dense ? c.Elements : 0];
        for (int r = 0; r < n; r++)
        {
            t[r] = rng.Next(k);
            if (!c.Dense) continue;
            // As the suite's labels: 0.9 on one class, 0.1 spread at random over the row.
            var w = new double[k];
            double sum = 0;
            for (int j = 0; j < k; j++) sum += w[j] = rng.NextDouble();
            for (int j = 0; j < k; j++) y[r * k + j] = (float)(0.1 * w[j] / sum + (j == t[r] ? 0.9 : 0));
        }
        float[] la = new float[n], lb = new float[n], ga = new float[grad ? c.Elements : 0], gb = new float[grad ? c.Elements : 0];
        void Call(Entry e, float[] l, float[] g) => e.Invoke(z, y, t, l, g, k);
        Call(a, la, ga);
        Call(b, lb, gb);
        bool same = la.AsSpan().SequenceEqual(lb) && ga.AsSpan().SequenceEqual(gb);
        // Calls per slice from a first timing of this build.
        var sw = Stopwatch.StartNew();
        Call(a, la, ga);
        int reps = Math.Max(1, (int)(seconds / Math.Max(sw.Elapsed.TotalSeconds, 1e-7)));
        var ta = new List<double>();
        var tb = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            // Alternate which build goes first, so neither always follows the other's cache state.
            for (int side = 0; side < 2; side++)
            {
                bool mineNow = (side == 0) == (round % 2 == 0);
                Entry e = mineNow ? a : b;
                float[] l = mineNow ? la : lb, g = mineNow ? ga : gb;
                sw.Restart();
                for (int rep = 0; rep < reps; rep++) Call(e, l, g);
                (mineNow ? ta : tb).Add(sw.Elapsed.TotalMilliseconds / reps);
            }
        }
        var ratios = tb.Zip(ta, (x, w) => x / w).ToList();
        double geo = Math.Exp(ratios.Average(Math.Log));
        Console.WriteLine($"| {c} | {(grad ? "FwdBwd" : "Fwd")} | {Median(ta):F3} ms | {Median(tb):F3} ms | {Median(ratios):F3} | {geo:F3} | {(same ? "identical" : "differ")} |");
    }

    private static double Median(List<double> v)
    {
        var s = v.OrderBy(x => x).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    /// <summary>One of the four float32 span entry points of one build, as a function pointer (only shared types in its
    /// signature, so the same pointer types serve both builds); which one is given by the case's kind and category.</summary>
    private readonly record struct Entry(IntPtr Pointer, bool Dense, bool Grad)
    {
        public static Entry Of(Assembly assembly, bool dense, bool grad)
        {
            Type poly = assembly.GetType("PolyLoss.Poly", throwOnError: true)!;
            Type targets = dense ? typeof(ReadOnlySpan<float>) : typeof(ReadOnlySpan<int>);
            Type[] sig = grad
                ? [typeof(ReadOnlySpan<float>), targets, typeof(Span<float>), typeof(Span<float>), typeof(int), typeof(float)]
                : [typeof(ReadOnlySpan<float>), targets, typeof(Span<float>), typeof(int), typeof(float)];
            string name = grad ? "CrossEntropyWithGradient" : "CrossEntropy";
            MethodInfo m = poly.GetMethod(name, BindingFlags.Public | BindingFlags.Static, sig)
                ?? throw new MissingMethodException($"{assembly.Location}: no Poly.{name}({string.Join(", ", sig.Select(s => s.Name))})");
            return new Entry(m.MethodHandle.GetFunctionPointer(), dense, grad);
        }

        public void Invoke(float[] z, float[] y, int[] t, float[] l, float[] g, int k)
        {
            switch (Dense, Grad)
            {
                case (false, false): ((delegate*<ReadOnlySpan<float>, ReadOnlySpan<int>, Span<float>, int, float, void>)Pointer)(z, t, l, k, 2f); break;
                case (true, false): ((delegate*<ReadOnlySpan<float>, ReadOnlySpan<float>, Span<float>, int, float, void>)Pointer)(z, y, l, k, 2f); break;
                case (false, true): ((delegate*<ReadOnlySpan<float>, ReadOnlySpan<int>, Span<float>, Span<float>, int, float, void>)Pointer)(z, t, l, g, k, 2f); break;
                default: ((delegate*<ReadOnlySpan<float>, ReadOnlySpan<float>, Span<float>, Span<float>, int, float, void>)Pointer)(z, y, l, g, k, 2f); break;
            }
        }
    }
}
