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
        var d = new List<double> { 0, -0.0, -1e-300, -1e-20, -1e-9, -0.5, -1, -2, -10, -100, -700, -744 };
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
                // The 512-bit table: 1.6e-9 (minimax cubic) or about 2 ulp (degree 7, split ln 2); the table-free polynomial:
                // 2^-36 or about 1 ulp.
                double bound = precise ? 5e-16 : width == 512 ? 1.7e-9 : 2e-11;
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
        // Unclamped (rows whose spread is at most 1e13): huge finite gaps still give (nearly) 0, not garbage.
        double[] wide = [-1e6, -9e12, -745.5];
        double[] g2 = width switch
        {
            512 => Evaluate<V512>(wide, clamp: false, precise: false),
            256 => Evaluate<V256>(wide, clamp: false, precise: false),
            _ => Evaluate<V128>(wide, clamp: false, precise: false),
        };
        foreach (double v in g2) Assert.True(v >= 0 && v < 1e-280, $"unclamped exp of a huge gap gave {v}");
    }
}
