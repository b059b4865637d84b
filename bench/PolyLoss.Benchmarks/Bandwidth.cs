using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;

namespace PolyLoss.Benchmarks;

/// <summary>
/// <c>bandwidth</c>: read bandwidth (TensorPrimitives.Sum over float32, 1 and 2 threads) against the working-set size,
/// to see where the caches end on this machine: a shape whose inputs fit in the last-level cache is read from cache
/// when it is processed again and again, as in the benchmarks.
/// </summary>
public static class Bandwidth
{
    public static int Run(string[] args)
    {
        double[] mib = args.Length > 0 ? args.Select(a => double.Parse(a, CultureInfo.InvariantCulture)).ToArray()
            : [0.25, 0.5, 1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];
        using var pool = new TwoThreads();
        Console.WriteLine("| working set | 1 thread GB/s | 2 threads GB/s |");
        Console.WriteLine("| ---: | ---: | ---: |");
        foreach (double m in mib)
        {
            int n = (int)(m * 1048576 / 4);
            var data = new float[n];
            data.AsSpan().Fill(1f);
            var sinks = new float[32];
            double one = Measure(() => sinks[0] = TensorPrimitives.Sum<float>(data), n);
            Action<int> half = i => sinks[i * 16] = TensorPrimitives.Sum<float>(data.AsSpan(i * (n / 2), n / 2));
            double two = Measure(() => pool.Run(half), n);
            Console.WriteLine($"| {m} MiB | {one:0.0} | {two:0.0} |");
        }
        return 0;
    }

    /// <summary>Best of 15 samples of at least ~20 ms each (noise on a shared machine only slows things down).</summary>
    private static double Measure(Action op, int n)
    {
        op(); op();
        var sw = Stopwatch.StartNew();
        op();
        int reps = (int)Math.Clamp(0.02 / Math.Max(sw.Elapsed.TotalSeconds, 1e-9), 1, 100000);
        double best = double.MaxValue;
        for (int s = 0; s < 15; s++)
        {
            sw.Restart();
            for (int i = 0; i < reps; i++) op();
            best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
        }
        return n * 4.0 / best / 1e9;
    }
}
