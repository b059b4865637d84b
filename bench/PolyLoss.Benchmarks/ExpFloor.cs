using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using PolyLoss.Internal;

namespace PolyLoss.Benchmarks;

/// <summary>
/// <c>expfloor</c>: what the exponential sum of a float32 row (sum of exp(z_k - m), the inner loop of every forward
/// kernel) costs per 16 elements on one core, in the library's double lanes against float lanes with and without
/// the corrections a 1-ulp loss needs, and how accurate each is. An experiment for docs/benchmarks.md ("lower
/// bounds"), not a test; AVX-512 only. The float-lane variants live here, not in the library.
/// </summary>
public static class ExpFloor
{
    private const int Rows = 32;

    public static int Run(string[] args)
    {
        if (!Avx512F.IsSupported || !Avx512DQ.IsSupported)
        {
            Console.Error.WriteLine("expfloor needs AVX-512 (F, DQ).");
            return 2;
        }
        int n = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1024;
        if (n < 64 || n % 64 != 0) { Console.Error.WriteLine("classes must be a positive multiple of 64"); return 2; }
        double offset = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 20;
        var rng = new Random(7);
        var z = new float[Rows * n];
        var m = new float[Rows];
        for (int r = 0; r < Rows; r++)
        {
            for (int k = 0; k < n; k++) z[r * n + k] = (float)(offset + 3 * Normal(rng)); // N(offset, 3^2)
            m[r] = z.AsSpan(r * n, n).ToArray().Max();
        }
        var exact = new double[Rows];
        for (int r = 0; r < Rows; r++)
        {
            double s = 0; // Math.Exp (about 1 ulp of double) summed in double: ~1e-13 relative here, far below 2^-24
            for (int k = 0; k < n; k++) s += Math.Exp((double)z[r * n + k] - m[r]);
            exact[r] = s;
        }
        (string Name, Func<float[], int, int, float, double> Sum)[] variants =
        [
            ("double lanes, table exp with VSCALEFPD (VMath.ExpScaled), one vector a step", SumDouble),
            ("  same, eight vectors a step into four accumulators", SumDouble8),
            ("  same, tables of t, t c2, t c3 in registers (no product with t), one a step", SumDoubleTab),
            ("  same, 2^e added to the table's exponent bits (no VSCALEFPD), one a step", SumDoubleInt),
            ("two factors (VMath.ExpParts: VREDUCEPD, one FMA per term), exact z - m, eight a step", (a, o, c, mm) => SumReduce8(a, o, c, mm, false)),
            ("  same, y = z log2 e - m log2 e in one FMA (the library's float32 sums)", (a, o, c, mm) => SumReduce8(a, o, c, mm, true)),
            ("float lanes, z - m rounded to float", (a, o, c, mm) => SumFloat(a, o, c, mm, Correction.None)),
            ("float lanes + TwoSum(z, -m) carried into r", (a, o, c, mm) => SumFloat(a, o, c, mm, Correction.TwoSum)),
            ("float lanes + TwoSum + two-part table, FMA form", (a, o, c, mm) => SumFloat(a, o, c, mm, Correction.Full)),
        ];
        Console.WriteLine($"{Rows} rows x {n} classes, logits N({offset}, 3^2), one thread; row error = max over rows of |sum / exact - 1|, " +
            "term error = max over 20000 single terms exp(z - m), z - m in [-20, 0] (m in +-64), both in units of 2^-24");
        Console.WriteLine("| variant | ns per 16 elements | cycles per 16 at 2.6 GHz | row error | term error |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
        // Single terms: a row of 64 copies of z, whose sum is 64 exp(z - m).
        var terms = new (float Z, float M)[20000];
        for (int i = 0; i < terms.Length; i++)
        {
            float mm = (float)((rng.NextDouble() * 2 - 1) * 64);
            terms[i] = ((float)(mm - rng.NextDouble() * 20), mm);
        }
        var times = new List<double>[variants.Length];
        for (int v = 0; v < variants.Length; v++) times[v] = [];
        double sink = 0;
        for (int round = 0; round < 15; round++)
            for (int v = 0; v < variants.Length; v++)
            {
                var f = variants[v].Sum;
                int reps = Math.Max(1, 4_000_000 / (Rows * n));
                var sw = Stopwatch.StartNew();
                for (int rep = 0; rep < reps; rep++)
                    for (int r = 0; r < Rows; r++) sink += f(z, r * n, n, m[r]);
                times[v].Add(sw.Elapsed.TotalNanoseconds / reps / (Rows * n / 16.0));
            }
        for (int v = 0; v < variants.Length; v++)
        {
            double err = 0;
            for (int r = 0; r < Rows; r++) err = Math.Max(err, Math.Abs(variants[v].Sum(z, r * n, n, m[r]) * Math.Pow(2, -64) / exact[r] - 1));
            double termErr = 0;
            var row = new float[64];
            foreach (var (tz, tm) in terms)
            {
                Array.Fill(row, tz);
                double exactTerm = Math.Exp((double)tz - tm);
                termErr = Math.Max(termErr, Math.Abs(variants[v].Sum(row, 0, 64, tm) * Math.Pow(2, -64) / (64 * exactTerm) - 1));
            }
            double ns = times[v].Order().ElementAt(times[v].Count / 2);
            Console.WriteLine($"| {variants[v].Name} | {ns:0.00} | {ns * 2.6:0.0} | {err / Math.Pow(2, -24):0.000} | {termErr / Math.Pow(2, -24):0.000} |");
        }
        return sink == 42 ? 1 : 0;
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>The library's loop body: widen to double, the table exponential, two accumulators.</summary>
    private static double SumDouble(float[] z, int offset, int n, float m)
    {
        ref float zr = ref z[offset];
        V512 mv = V512.Splat(m), a0 = V512.Splat(0), a1 = a0;
        for (int i = 0; i < n; i += 16)
        {
            a0 += VMath.ExpScaled(V512.Load(ref Unsafe.Add(ref zr, i)) - mv, clamp: false, precise: false);
            a1 += VMath.ExpScaled(V512.Load(ref Unsafe.Add(ref zr, i + 8)) - mv, clamp: false, precise: false);
        }
        return V512.Sum(a0 + a1);
    }

    private static readonly double[] T0 = new double[16], T2 = new double[16], T3 = new double[16];

    /// <summary>The library's exponential with the table's factor folded into the cubic (t + r (t + r (t c2 + r t c3)):
    /// one multiply-pipe operation fewer per 8 lanes, two more permutes) and all six table halves held in registers
    /// (created before the loop). Faster here, but not in the library's loops (tried there: no change; see
    /// docs/benchmarks.md).</summary>
    private static double SumDoubleTab(float[] z, int offset, int n, float m)
    {
        if (T0[0] == 0)
            for (int j = 0; j < 16; j++) { T0[j] = Math.Pow(2, j / 16.0 + 64); T2[j] = T0[j] * 0.5000161574502079; T3[j] = T0[j] * 0.16666718460891253; }
        ref float zr = ref z[offset];
        Vector512<double> t0a = Vector512.Create(T0.AsSpan(0, 8)), t0b = Vector512.Create(T0.AsSpan(8, 8));
        Vector512<double> t2a = Vector512.Create(T2.AsSpan(0, 8)), t2b = Vector512.Create(T2.AsSpan(8, 8));
        Vector512<double> t3a = Vector512.Create(T3.AsSpan(0, 8)), t3b = Vector512.Create(T3.AsSpan(8, 8));
        Vector512<double> mv = Vector512.Create((double)m), a0 = Vector512<double>.Zero, a1 = a0;
        const double TableMagic = 422212465065984.0;
        for (int i = 0; i < n; i += 8)
        {
            Vector512<double> x = Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref Unsafe.Add(ref zr, i))) - mv;
            Vector512<double> k = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(TableMagic));
            Vector512<double> e = k - Vector512.Create(TableMagic);
            Vector512<double> r = Vector512.FusedMultiplyAdd(e, Vector512.Create(-0.69314718055994531), x);
            Vector512<long> j = k.AsInt64();
            Vector512<double> w = Vector512.FusedMultiplyAdd(Avx512F.PermuteVar8x64x2(t3a, j, t3b), r, Avx512F.PermuteVar8x64x2(t2a, j, t2b));
            Vector512<double> t = Avx512F.PermuteVar8x64x2(t0a, j, t0b);
            w = Vector512.FusedMultiplyAdd(w, r, t);
            w = Vector512.FusedMultiplyAdd(w, r, t);
            a0 += Avx512F.Scale(w, e);
            (a0, a1) = (a1, a0);
        }
        return Vector512.Sum(a0 + a1);
    }

    private static double SumDouble8(float[] z, int offset, int n, float m)
    {
        ref float zr = ref z[offset];
        V512 mv = V512.Splat(m), a0 = V512.Splat(0), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < n; i += 64)
        {
            V512 e0 = VMath.ExpScaled(V512.Load(ref Unsafe.Add(ref zr, i)) - mv, clamp: false, precise: false);
            V512 e1 = VMath.ExpScaled(V512.Load(ref Unsafe.Add(ref zr, i + 8)) - mv, clamp: false, precise: false);
            V512 e2 = VMath.ExpScaled(V512.Load(ref Unsafe.Add(ref zr, i + 16)) - mv, clamp: false, precise: false);
            V512 e3 = VMath.ExpScaled(V512.Load(ref Unsafe.Add(ref zr, i + 24)) - mv, clamp: false, precise: false);
            V512 e4 = VMath.ExpScaled(V512.Load(ref Unsafe.Add(ref zr, i + 32)) - mv, clamp: false, precise: false);
            V512 e5 = VMath.ExpScaled(V512.Load(ref Unsafe.Add(ref zr, i + 40)) - mv, clamp: false, precise: false);
            V512 e6 = VMath.ExpScaled(V512.Load(ref Unsafe.Add(ref zr, i + 48)) - mv, clamp: false, precise: false);
            V512 e7 = VMath.ExpScaled(V512.Load(ref Unsafe.Add(ref zr, i + 56)) - mv, clamp: false, precise: false);
            a0 += e0 + e4; a1 += e1 + e5; a2 += e2 + e6; a3 += e3 + e7;
        }
        return V512.Sum(a0 + a1 + a2 + a3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> ReduceTerm(ref float src, Vector512<double> mv, Vector512<double> nml, bool fma, Vector512<double> acc)
    {
        Vector512<double> zv = Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref src));
        return Vector512.FusedMultiplyAdd(VMath.ExpParts(zv, mv, nml, exactGap: !fma, out Vector512<double> p), p, acc);
    }

    private static double SumReduce8(float[] z, int offset, int n, float m, bool fma)
    {
        ref float zr = ref z[offset];
        Vector512<double> mv = Vector512.Create((double)m), nml = Vector512.Create(-(double)m * Log2E);
        Vector512<double> a0 = Vector512<double>.Zero, a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < n; i += 64)
        {
            a0 = ReduceTerm(ref Unsafe.Add(ref zr, i), mv, nml, fma, a0);
            a1 = ReduceTerm(ref Unsafe.Add(ref zr, i + 8), mv, nml, fma, a1);
            a2 = ReduceTerm(ref Unsafe.Add(ref zr, i + 16), mv, nml, fma, a2);
            a3 = ReduceTerm(ref Unsafe.Add(ref zr, i + 24), mv, nml, fma, a3);
            a0 = ReduceTerm(ref Unsafe.Add(ref zr, i + 32), mv, nml, fma, a0);
            a1 = ReduceTerm(ref Unsafe.Add(ref zr, i + 40), mv, nml, fma, a1);
            a2 = ReduceTerm(ref Unsafe.Add(ref zr, i + 48), mv, nml, fma, a2);
            a3 = ReduceTerm(ref Unsafe.Add(ref zr, i + 56), mv, nml, fma, a3);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3);
    }

    private static readonly long[] TBits = new long[16];

    /// <summary>The table exponential with 2^e built from bits (the table entry's bits less j 2^48, plus k's bits
    /// shifted left by 48: VPSLLQ, VPADDQ) instead of VSCALEFPD: faster one vector a step (latency), slower in the
    /// library's eight-vector loops (one operation more per 8 lanes; and it needs the argument's range checked).</summary>
    private static double SumDoubleInt(float[] z, int offset, int n, float m)
    {
        if (TBits[1] == 0)
            for (int j = 0; j < 16; j++) TBits[j] = BitConverter.DoubleToInt64Bits(Math.Pow(2, j / 16.0 + 64)) - ((long)j << 48);
        ref float zr = ref z[offset];
        Vector512<double> ta = Vector512.Create(TBits.AsSpan(0, 8)).AsDouble(), tb = Vector512.Create(TBits.AsSpan(8, 8)).AsDouble();
        Vector512<double> mv = Vector512.Create((double)m), a0 = Vector512<double>.Zero, a1 = a0;
        const double TableMagic = 422212465065984.0;
        for (int i = 0; i < n; i += 8)
        {
            Vector512<double> x = Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref Unsafe.Add(ref zr, i))) - mv;
            Vector512<double> k = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(TableMagic));
            Vector512<double> e = k - Vector512.Create(TableMagic);
            Vector512<double> r = Vector512.FusedMultiplyAdd(e, Vector512.Create(-0.69314718055994531), x);
            Vector512<double> w = Vector512.FusedMultiplyAdd(r, Vector512.Create(0.16666718460891253), Vector512.Create(0.5000161574502079));
            w = Vector512.FusedMultiplyAdd(w, r, Vector512.Create(1.0));
            w = Vector512.FusedMultiplyAdd(w, r, Vector512.Create(1.0));
            Vector512<long> sb = Avx512F.PermuteVar8x64x2(ta, k.AsInt64(), tb).AsInt64() + Avx512F.ShiftLeftLogical(k.AsInt64(), 48);
            a0 += sb.AsDouble() * w;
            (a0, a1) = (a1, a0);
        }
        return Vector512.Sum(a0 + a1);
    }

    private enum Correction { None, TwoSum, Full }

    private const double Log2E = 1.4426950408889634;
    private const float MagicF = 12582912f; // 1.5 * 2^23: k = s 16 log2(e) + MagicF rounds to an integer n (units of 1/16)
    private const float Ln2By16Hi = 0.0433197021484375f; // 12 bits: n Ln2By16Hi is exact for |n| < 2^12
    private const float Ln2By16Lo = 1.996636559080389e-06f;

    private static readonly float[] TableHi = new float[16], TableLo = new float[16];

    static ExpFloor()
    {
        for (int j = 0; j < 16; j++)
        {
            double t = Math.Pow(2, j / 16.0 + 64);
            TableHi[j] = (float)t;
            TableLo[j] = (float)(t - TableHi[j]);
        }
    }

    /// <summary>exp(z - m) * 2^64 in float lanes (16 at a time), summed in double lanes.</summary>
    private static double SumFloat(float[] z, int offset, int n, float m, Correction c)
    {
        ref float zr = ref z[offset];
        Vector512<float> nm = Vector512.Create(-m), th = Vector512.Create(TableHi), tl = Vector512.Create(TableLo);
        Vector512<double> a0 = Vector512<double>.Zero, a1 = a0;
        for (int i = 0; i < n; i += 16)
        {
            Vector512<float> zv = Vector512.LoadUnsafe(ref Unsafe.Add(ref zr, i));
            Vector512<float> s = zv + nm, err = Vector512<float>.Zero;
            if (c != Correction.None)
            {
                Vector512<float> bb = s - zv;
                err = (zv - (s - bb)) + (nm - bb); // TwoSum: s + err = z - m exactly
            }
            Vector512<float> k = Vector512.FusedMultiplyAdd(s, Vector512.Create((float)(16 * Log2E)), Vector512.Create(MagicF));
            Vector512<float> nn = k - Vector512.Create(MagicF);
            Vector512<float> r = Vector512.FusedMultiplyAdd(nn, Vector512.Create(-Ln2By16Hi), s);
            r = Vector512.FusedMultiplyAdd(nn, Vector512.Create(-Ln2By16Lo), c == Correction.None ? r : r + err);
            Vector512<float> t = Avx512F.PermuteVar16x32(th, k.AsInt32()), v;
            if (c == Correction.Full)
            {
                // q = exp(r) - 1; t (1 + q) + tl as t + (t q + tl): one rounding at the end.
                Vector512<float> q = Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(r, Vector512.Create(0.16666718f), Vector512.Create(0.50001616f)), r, Vector512.Create(1f)) * r;
                v = t + Vector512.FusedMultiplyAdd(t, q, Avx512F.PermuteVar16x32(tl, k.AsInt32()));
            }
            else
            {
                Vector512<float> w = Vector512.FusedMultiplyAdd(r, Vector512.Create(0.16666718f), Vector512.Create(0.50001616f));
                w = Vector512.FusedMultiplyAdd(w, r, Vector512.Create(1f));
                w = Vector512.FusedMultiplyAdd(w, r, Vector512.Create(1f));
                v = t * w;
            }
            Vector512<float> e = Avx512F.Scale(v, nn * Vector512.Create(0.0625f)); // times 2^floor(n / 16)
            a0 += Avx512F.ConvertToVector512Double(e.GetLower());
            a1 += Avx512F.ConvertToVector512Double(e.GetUpper());
        }
        return Vector512.Sum(a0 + a1);
    }
}
