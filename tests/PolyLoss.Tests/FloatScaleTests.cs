using System.Numerics;
using PolyLoss.Internal;

namespace PolyLoss.Tests;

/// <summary>
/// The float-lane scaling of stored exponentials (<see cref="FloatScale"/>, the second pass of the float32
/// integer-target gradients): each result must be the float nearest to the exact product x f, up to the 2^-47 the
/// two-part factor leaves, at every vector width and in the scalar tail.
/// </summary>
public class FloatScaleTests
{
    public static IEnumerable<object[]> Widths() => [[512], [256], [128]];

    [Theory]
    [MemberData(nameof(Widths))]
    public void Results_are_the_rounded_exact_products(int width)
    {
        var rng = new Random(31 + width);
        double worst = 0;
        int inside = 0;
        for (int trial = 0; trial < 400; trial++)
        {
            // Factors over the whole accepted range, stored values as the kernels write them (exp(d) 2^64, d <= 0),
            // restricted to products above 2^-100 (below that the x fl term may be subnormal: see FloatScale).
            // Through the kernels' entry (VRows.ScaleStored), with factors inside and outside the float-lane range
            // (outside it the double-lane multiply runs).
            double f = Math.Pow(2, -100 + rng.NextDouble() * 164) * (rng.Next(2) == 0 ? 1 : -1) * (1 + rng.NextDouble());
            inside += FloatScale.Applies(f) ? 1 : 0;
            int n = rng.Next(0, 70);
            var x = new float[n];
            for (int i = 0; i < n; i++)
            {
                float v;
                do v = (float)(Math.Exp(-rng.NextDouble() * 80) * Math.Pow(2, 64)); while (Math.Abs(v * f) < Math.Pow(2, -100) || Math.Abs(v * f) > 1e38);
                x[i] = v;
            }
            var got = (float[])x.Clone();
            var factor = new R64(f * Math.Pow(2, 64)); // the stored values carry 2^64; ScaleStored takes it off
            switch (width)
            {
                case 512: VRows.ScaleStored<float, R64, V512>(got, factor); break;
                case 256: VRows.ScaleStored<float, R64, V256>(got, factor); break;
                default: VRows.ScaleStored<float, R64, V128>(got, factor); break;
            }
            for (int i = 0; i < n; i++)
            {
                // x f = p + e exactly (TwoProduct in double); the error in ulps of the float result.
                double p = x[i] * f, e = Math.FusedMultiplyAdd(x[i], f, -p);
                double ulp = Ulp(got[i]);
                double err = Math.Abs(((double)got[i] - p) - e) / ulp;
                worst = Math.Max(worst, err);
                Assert.True(err <= 0.5 + 1e-5, $"width {width}: x = {x[i]:R}, f = {f:R}: got {got[i]:R}, error {err} ulp");
            }
        }
        Assert.InRange(inside, 100, 399); // both branches ran
        Assert.True(worst > 0.4, $"the products should come close to half an ulp somewhere (worst {worst})"); // the check is live
    }

    [Fact]
    public void Factors_outside_the_range_are_refused()
    {
        Assert.False(FloatScale.Applies(Math.Pow(2, -93)));
        Assert.False(FloatScale.Applies(Math.Pow(2, 61)));
        Assert.False(FloatScale.Applies(double.NaN));
        Assert.False(FloatScale.Applies(double.PositiveInfinity));
        Assert.True(FloatScale.Applies(1e-20));
        Assert.True(FloatScale.Applies(-1e-20));
    }

    private static double Ulp(float v)
    {
        float a = MathF.Abs(v);
        return (double)MathF.BitIncrement(a) - a;
    }
}
