using System.Runtime.Intrinsics;
using PolyLoss.Internal;
using PolyLoss.Tests.Reference;

namespace PolyLoss.Tests;

/// <summary>
/// The float32 kernels' exponential (<see cref="VMath.ExpScaled{TV}"/>) against the 200-bit reference, per vector width:
/// its per-term error bound is what the float32 loss and gradient bounds rest on (docs/accuracy.md).
/// </summary>
public class ExpKernelTests
{
    private const double TwoTo64 = 18446744073709551616.0;

    /// <summary>Arguments over the whole range the kernels use (float32 logits widened to double: z - m is exact there),
    /// the table's cell edges (multiples of ln2/32) and neighbours of 0.</summary>
    private static double[] Arguments()
    {
        var rng = new Random(12);
        var d = new List<double> { 0, -0.0, -1e-300, -1e-20, -1e-9, -0.5, -1, -2, -10, -100, -700, -744, -VMath.CompactFloor };
        for (int k = 1; k < 40; k++) { double edge = -k * Math.Log(2) / 32; d.Add(edge); d.Add(Math.BitDecrement(edge)); d.Add(Math.BitIncrement(edge)); }
        for (int i = 0; i < 3000; i++) d.Add(-rng.NextDouble() * 40);
        for (int i = 0; i < 1000; i++) d.Add(-rng.NextDouble() * 740);
        for (int i = 0; i < 1000; i++) d.Add((double)(float)(rng.NextDouble() * 30 - 15) - (float)(rng.NextDouble() * 5 + 15)); // float differences
        return d.ToArray();
    }

    private static double[] Evaluate<TV>(double[] d, bool clamp, bool precise) where TV : struct, IDVec<TV>
    {
        var result = new double[d.Length];
        var lane = new double[TV.Count];
        for (int i = 0; i < d.Length; i++)
        {
            Array.Fill(lane, d[i]);
            TV.Store(ref lane[0], VMath.ExpScaled(TV.Load(ref lane[0]), clamp, precise));
            result[i] = lane[i % TV.Count];
        }
        return result;
    }

    public static IEnumerable<object[]> Widths()
    {
        if (Vector512.IsHardwareAccelerated) yield return [512];
        if (Vector256.IsHardwareAccelerated) yield return [256];
        yield return [128]; // also without SIMD hardware (software Vector128), as the scalar-only CI run has it
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Relative_error_is_below_the_documented_bound(int width)
    {
        double[] d = Arguments();
        foreach (bool precise in new[] { false, true })
            foreach (bool clamp in new[] { false, true })
            {
                double[] got = width switch
                {
                    512 => Evaluate<V512>(d, clamp, precise),
                    256 => Evaluate<V256>(d, clamp, precise),
                    _ => Evaluate<V128>(d, clamp, precise),
                };
                // The 512-bit table: 1.6e-9 (minimax cubic) or about 2 ulp (degree 7, split ln 2); the other widths: the
                // compact degree-7 minimax (5.2e-11) or the degree-13 Taylor polynomial, about 1 ulp.
                double bound = precise ? 5e-16 : width == 512 ? 1.7e-9 : 5.2e-11;
                double worst = 0;
                for (int i = 0; i < d.Length; i++)
                {
                    double exact = (BigMath.Exp(d[i]) * BigFloat.FromDouble(TwoTo64)).ToDouble();
                    double rel = Math.Abs(got[i] - exact) / exact;
                    Assert.True(rel <= bound, $"{width}-bit precise={precise} clamp={clamp}: exp({d[i]:R}) 2^64 = {got[i]:R}, exact {exact:R}, relative error {rel:E2} > {bound:E1}");
                    worst = Math.Max(worst, rel);
                }
                Assert.True(worst > 0, "the comparison saw no rounding at all, so it cannot be comparing what it says");
            }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Special_arguments(int width)
    {
        double[] d = [double.NegativeInfinity, double.NaN, -1e6, -3e38, 0];
        foreach (bool precise in new[] { false, true })
        {
            double[] got = width switch
            {
                512 => Evaluate<V512>(d, clamp: true, precise),
                256 => Evaluate<V256>(d, clamp: true, precise),
                _ => Evaluate<V128>(d, clamp: true, precise),
            };
            Assert.True(got[0] >= 0 && got[0] < 1e-280, $"exp(-inf) 2^64 = {got[0]}"); // the clamp gives 0 or a value below any float
            Assert.True(double.IsNaN(got[1]), "NaN must stay NaN");
            Assert.True(got[2] >= 0 && got[2] < 1e-280, $"exp(-1e6) 2^64 = {got[2]}");
            Assert.True(got[3] >= 0 && got[3] < 1e-280, $"exp(-3e38) 2^64 = {got[3]}");
            Assert.Equal(TwoTo64, got[4]); // exp(0) exactly: the maxima of a row are summed as exact ones
        }
        if (width == 512)
        {
            // Unclamped on 512-bit lanes (rows whose spread is at most 1e13): huge finite gaps still give (nearly) 0, not garbage.
            double[] wide = [-1e6, -9e12, -745.5];
            foreach (double v in Evaluate<V512>(wide, clamp: false, precise: false))
                Assert.True(v >= 0 && v < 1e-280, $"unclamped exp of a huge gap gave {v}");
        }
        else
        {
            // The compact form (other widths) takes unclamped arguments down to -CompactFloor only (rows with a wider
            // spread take the clamped form, RowScan.MaxUnclampedSpread): there its result is still a normal number, and
            // just below it the clamped form gives exactly 0.
            double[] Compact(double[] args, bool clamp) => width == 256
                ? Evaluate<V256>(args, clamp, precise: false) : Evaluate<V128>(args, clamp, precise: false);
            double[] edge = [-VMath.CompactFloor, Math.BitDecrement(-VMath.CompactFloor), -745.5, -746, -1e6];
            double[] un = Compact(edge[..1], clamp: false);
            Assert.True(double.IsNormal(un[0]), $"unclamped exp(-{VMath.CompactFloor}) 2^64 = {un[0]} is not a normal number");
            double[] cl = Compact(edge, clamp: true);
            Assert.Equal(un[0], cl[0]);
            for (int i = 1; i < edge.Length; i++) Assert.True(cl[i] == 0, $"clamped exp({edge[i]:R}) 2^64 = {cl[i]:R}, not 0");
            // Above the ceiling (gaps the one-pass rows can meet above their target) the clamped form saturates far above
            // anything a row keeps (U <= 2^63), never wraps to a small or negative value.
            double[] high = [VMath.CompactCeiling, 700, 1e6, 3e38, double.PositiveInfinity];
            foreach (double v in Compact(high, clamp: true)) Assert.True(double.IsFinite(v) && v >= Math.Pow(2, 929), $"clamped exp of a gap above the ceiling gave {v:R}");
        }
    }

    /// <summary>The one-pass integer-target rows (VRows.TargetStats, 512-bit lanes; this table form where AVX-512 DQ is
    /// missing, the two-factor form otherwise) take exp(z_k - z_t) with z_k above the target too: up to U &lt;= 2^63, so
    /// arguments up to 43.7 must keep the cubic's bound.</summary>
    [Fact]
    public void Positive_arguments_up_to_the_one_pass_limit_keep_the_bound()
    {
        if (!Vector512.IsHardwareAccelerated || !System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return; // 512-bit lanes only
        var rng = new Random(5);
        var d = new List<double> { 1e-300, 1e-9, 0.5, 1, 10, 27.7, 43.66 };
        for (int k = 1; k < 40 * 16 / 10; k++) { double edge = k * Math.Log(2) / 32; d.Add(edge); d.Add(Math.BitDecrement(edge)); d.Add(Math.BitIncrement(edge)); }
        for (int i = 0; i < 3000; i++) d.Add(rng.NextDouble() * 43.66);
        for (int i = 0; i < 1000; i++) d.Add((double)(float)(rng.NextDouble() * 60 - 30) - (float)(rng.NextDouble() * 20 - 25)); // float differences
        double[] args = d.Where(x => x <= 43.66).ToArray();
        double[] got = Evaluate<V512>(args, clamp: false, precise: false);
        double worst = 0;
        for (int i = 0; i < args.Length; i++)
        {
            double exact = (BigMath.Exp(args[i]) * BigFloat.FromDouble(TwoTo64)).ToDouble();
            double rel = Math.Abs(got[i] - exact) / exact;
            Assert.True(rel <= 1.7e-9, $"exp({args[i]:R}) 2^64 = {got[i]:R}, exact {exact:R}, relative error {rel:E2}");
            worst = Math.Max(worst, rel);
        }
        Assert.True(worst > 1e-12, "the cubic's error never showed: not comparing what it says");
    }

    /// <summary>What VRows.TargetStats relies on for rows it must hand back (512-bit lanes without AVX-512 DQ, unclamped
    /// cubic table form; the two-factor form is checked below): any
    /// gap between two floats beyond the exponential's range gives 0 (below) or a non-finite value (above, or a
    /// non-finite value below), never a wrong finite number, so the row's sum comes out non-finite or right.</summary>
    [Fact]
    public void Out_of_range_gaps_give_zero_or_a_non_finite_value_never_a_wrong_finite_one()
    {
        if (!Vector512.IsHardwareAccelerated || !System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return;
        var rng = new Random(9);
        var below = new List<double> { -9e13, -1e14, -1e20, -1e30, -3e38, -6.8e38, -2 * (double)float.MaxValue };
        var above = new List<double> { 709, 710, 1000, 9e13, 1e14, 1e20, 1e30, 3e38, 6.8e38, 2 * (double)float.MaxValue };
        for (int i = 0; i < 20000; i++)
        {
            double mag = Math.Pow(10, 13 + rng.NextDouble() * 25.8); // 1e13 .. 6.8e38, every binade
            below.Add(-mag);
            above.Add((double)(float)mag - (float)(-rng.NextDouble() * mag)); // float differences up to 2 float.MaxValue
        }
        for (int i = 0; i < 2000; i++) above.Add(666 + rng.NextDouble() * 1e4);
        double[] lo = Evaluate<V512>(below.ToArray(), clamp: false, precise: false);
        for (int i = 0; i < lo.Length; i++)
            Assert.True(lo[i] == 0 || !double.IsFinite(lo[i]), $"exp({below[i]:R}) 2^64 gave {lo[i]:R}");
        double[] hi = Evaluate<V512>(above.ToArray(), clamp: false, precise: false);
        for (int i = 0; i < hi.Length; i++)
            Assert.True(!double.IsFinite(hi[i]), $"exp({above[i]:R}) 2^64 gave {hi[i]:R}, a finite value above the double range");
    }

    /// <summary>exp(z - m) 2^64 by <see cref="VMath.ExpParts"/> (scale times cubic, as the float32 sums take it), lane by lane.</summary>
    private static double[] EvaluateParts(double[] z, double[] m, bool exactGap)
    {
        var result = new double[z.Length];
        for (int i = 0; i < z.Length; i++)
        {
            var zv = Vector512.Create(z[i]);
            var mv = Vector512.Create(m[i]);
            Vector512<double> scale = VMath.ExpParts(zv, mv, Vector512.Create(-m[i] * 1.4426950408889634), exactGap, out Vector512<double> poly);
            result[i] = (scale * poly)[i % 8];
        }
        return result;
    }

    private static bool TwoFactorsSupported =>
        Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported && System.Runtime.Intrinsics.X86.Avx512DQ.IsSupported;

    /// <summary>The two-factor form of the 512-bit float32 sums: float32 logits z and anchors m (|m| up to 2^16 for the
    /// one-FMA form, any for the exact-gap form), gaps from -745 to 60 (the one-pass rows take terms above 1), within
    /// 1.4e-9 of exp(z - m) 2^64 (the cubic's 1.34e-9 and a few roundings).</summary>
    [Fact]
    public void Two_factor_form_is_within_its_bound()
    {
        if (!TwoFactorsSupported) return;
        var rng = new Random(31);
        var zs = new List<double>();
        var ms = new List<double>();
        void Add(double m, double d) { float zf = (float)(m + d); zs.Add(zf); ms.Add(m); }
        foreach (double d in Arguments()) { Add(0, d); Add(0, -d / 10); }
        for (int i = 0; i < 6000; i++)
        {
            double anchor = (float)((rng.NextDouble() * 2 - 1) * Math.Pow(2, rng.Next(-3, 17)));
            double d = rng.Next(4) switch { 0 => -rng.NextDouble() * 745, 1 => rng.NextDouble() * 60, 2 => -rng.NextDouble() * 20, _ => (rng.NextDouble() - 0.5) * 1e-3 };
            Add(anchor, d);
        }
        for (int k = -40; k < 40; k++) { double edge = k * Math.Log(2) / 16; Add(0, edge); Add(3.5, Math.BitDecrement(edge)); Add(-7.25, Math.BitIncrement(edge)); }
        // Anchors beyond 2^16, up to 2^30 (float spacing up to 128 there): only the exact-gap form is for them.
        for (int i = 0; i < 3000; i++)
        {
            double anchor = (float)((rng.NextDouble() * 2 - 1) * Math.Pow(2, 16 + rng.NextDouble() * 14));
            Add(anchor, -rng.NextDouble() * 745);
        }
        double[] z = zs.ToArray(), m = ms.ToArray();
        foreach (bool exactGap in new[] { true, false })
        {
            double[] got = EvaluateParts(z, m, exactGap);
            double worst = 0;
            for (int i = 0; i < z.Length; i++)
            {
                if (!exactGap && !(Math.Abs(m[i]) <= VMath.MaxFusedAnchor)) continue;
                double gap = z[i] - m[i]; // exact: floats widened to double
                if (gap < -745) continue; // results below the double normal range (2^-1011 with the pre-scale); far below any float
                double exact = (BigMath.Exp(gap) * BigFloat.FromDouble(TwoTo64)).ToDouble();
                double rel = Math.Abs(got[i] - exact) / exact;
                Assert.True(rel <= 1.4e-9, $"exactGap={exactGap}: exp({z[i]:R} - {m[i]:R}) 2^64 = {got[i]:R}, exact {exact:R}, relative error {rel:E2}");
                worst = Math.Max(worst, rel);
            }
            Assert.True(worst > 1e-10, "the cubic's error never showed: not comparing what it says");
        }
    }

    /// <summary>The two-factor form needs no clamp: infinities, NaN and gaps far out of range give 0, +inf or NaN (never
    /// a wrong finite value), and with the exact gap a class tied with the anchor gives exactly 2^64.</summary>
    [Fact]
    public void Two_factor_form_special_arguments()
    {
        if (!TwoFactorsSupported) return;
        var rng = new Random(33);
        foreach (bool exactGap in new[] { true, false })
        {
            foreach (double m in new[] { 0.0, 1.5, -3e4, 65536 })
            {
                double[] z = [double.NegativeInfinity, double.PositiveInfinity, double.NaN, m];
                double[] got = EvaluateParts(z, [m, m, m, m], exactGap);
                Assert.True(got[0] >= 0 && got[0] < 1e-280, $"m={m}: exp(-inf) 2^64 = {got[0]}");
                Assert.True(double.IsPositiveInfinity(got[1]), $"m={m}: exp(+inf) 2^64 = {got[1]}");
                Assert.True(double.IsNaN(got[2]), $"m={m}: NaN gave {got[2]}");
                if (exactGap) Assert.Equal(TwoTo64, got[3]);
                else Assert.True(Math.Abs(got[3] / TwoTo64 - 1) <= 1.4e-9, $"m={m}: exp(0) 2^64 = {got[3]:R}");
            }
            var below = new List<double>();
            var above = new List<double>();
            for (int i = 0; i < 20000; i++)
            {
                double mag = Math.Pow(10, 2.9 + rng.NextDouble() * 35.9); // 800 .. 6.3e38
                below.Add((float)-mag);
                above.Add((float)mag);
            }
            double[] zero = new double[below.Count];
            double[] lo = EvaluateParts(below.ToArray(), zero, exactGap), hi = EvaluateParts(above.ToArray(), zero, exactGap);
            for (int i = 0; i < lo.Length; i++)
            {
                Assert.True(lo[i] >= 0 && lo[i] < 1e-280, $"exactGap={exactGap}: exp({below[i]:R}) 2^64 gave {lo[i]:R}");
                Assert.True(double.IsPositiveInfinity(hi[i]), $"exactGap={exactGap}: exp({above[i]:R}) 2^64 gave {hi[i]:R}");
            }
        }
    }
}
